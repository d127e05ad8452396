/// PAM's authentication failures, from any service.
///
/// Linux-PAM's pam_unix (and pam_sss, which copies it) logs, per failed attempt:
/// `pam_unix(<service>:auth): authentication failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s[  user=%s]`.
/// `rhost` is the client's address (empty for local logins such as su and sudo, which are not
/// counted); `ruser` and `user` are what the client sent, so either may hold ` rhost=10.0.0.1`.
/// The address is the `rhost=` word followed by the end or by ` user=`; a line where that fits
/// at more than one place is ambiguous.
enum PAMGrammar {
    typealias Bytes = UnsafeBufferPointer<UInt8>
    typealias F = AuthFields

    /// A PAM line from any program: `pam_<module>(<service>:auth): authentication failure; ...`.
    /// sshd's own PAM lines are `pamFailure` (echoes of its `Failed` lines); other services'
    /// are `serviceFailure`, one per attempt.
    static func parse(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        guard ByteSearch.hasPrefix(m, "pam_"), let open = ByteSearch.index(of: UInt8(ascii: "("), in: m, from: 4), open < 32,
              let close = ByteSearch.find(":auth): authentication failure;", in: m, from: open, end: min(m.count, open + 96)) else { return nil }
        let service = Bytes(rebasing: m[(open + 1)..<close])
        guard !service.isEmpty, !service.contains(0x20) else { return nil }
        if ByteSearch.equals(service, "sshd") { return unixFailure(m, pid: pid, service: nil) }
        return unixFailure(m, pid: pid, service: String(decoding: service, as: UTF8.self))
    }

    static func unixFailure(_ m: Bytes, pid: Int32?, service: String?) -> AuthEvent? {
        var found: [(AuthSourceAddress, Int)] = []
        var first: (AuthSourceAddress, Int)?
        var i = 0
        while let r = ByteSearch.find(" rhost=", in: m, from: i), found.count < 5 {
            i = r + 1
            let a = r + 7, e = F.wordEnd(m, from: a)
            guard e > a, let addr = F.address(m, a..<e) else { continue }
            var u = e
            if u < m.count, ByteSearch.hasPrefix(Bytes(rebasing: m[u...]), "  user=") { u += 1 }
            guard u == m.count || u == m.count - 1 && m[u] == 0x20 || ByteSearch.hasPrefix(Bytes(rebasing: m[u...]), " user=") else { continue }
            if first == nil { first = (addr, u) } else { found.append((addr, u)) } // a second fit is crafted text
        }
        guard let first else { return nil } // no rhost: a local login
        var e = AuthEvent(kind: service == nil ? .pamFailure : .serviceFailure, source: nil, pid: pid, user: nil)
        e.service = service
        if !found.isEmpty {
            e.candidates = [first.0] + found.map(\.0)
            return e
        }
        e.source = first.0
        let u = first.1
        if u + 6 < m.count { e.user = F.string(m, (u + 6)..<m.count) } // ` user=` and the rest
        else if let ru = ByteSearch.find(" ruser=", in: m), ru + 7 < m.count, m[ru + 7] != 0x20 {
            e.user = F.string(m, (ru + 7)..<F.wordEnd(m, from: ru + 7)) // sshd sets PAM_RUSER to the login name
        }
        return e
    }
}
