#if canImport(Glibc)
import Glibc
#endif

/// Parses sshd and PAM lines of an auth log (traditional `Nov 28 05:54:23 host sshd[123]: ...`
/// or RFC 3339 `2026-11-28T05:54:23.274377+00:00 host sshd[123]: ...` syslog prefixes), or the
/// bare message of a journald entry. Works on bytes: most lines are rejected after the prefix.
public enum AuthLogParser {
    /// Parses a full syslog line. Returns nil for lines that are not auth events.
    public static func parse(line: some StringProtocol) -> AuthEvent? {
        var s = String(line)
        return s.withUTF8 { parse(line: $0) }
    }

    public static func parse(line: UnsafeBufferPointer<UInt8>) -> AuthEvent? {
        guard let (program, pid, message) = splitSyslog(line) else { return nil }
        guard isSSHD(program) else { return nil }
        return parse(message: message, pid: pid)
    }

    /// Parses the message part (after `sshd[pid]: `), as journald stores it in MESSAGE.
    public static func parse(message: some StringProtocol, pid: Int32?) -> AuthEvent? {
        var s = String(message)
        return s.withUTF8 { parse(message: $0, pid: pid) }
    }

    // MARK: Syslog prefix

    /// Finds `program[pid]: message` after the timestamp and host. Returns nil when the shape is wrong.
    static func splitSyslog(_ l: UnsafeBufferPointer<UInt8>) -> (program: UnsafeBufferPointer<UInt8>, pid: Int32?, message: UnsafeBufferPointer<UInt8>)? {
        var i = 0
        let n = l.count
        guard n > 16 else { return nil }
        if l[0] >= 0x30 && l[0] <= 0x39 { // RFC 3339: timestamp is the first field
            while i < n, l[i] != 0x20 { i += 1 }
        } else { // "Nov 28 05:54:23": fixed 15 characters
            i = 15
            guard l[3] == 0x20, l[i] == 0x20 else { return nil }
        }
        i += 1
        while i < n, l[i] != 0x20 { i += 1 } // host
        i += 1
        let progStart = i
        while i < n, l[i] != 0x5B, l[i] != 0x3A, l[i] != 0x20 { i += 1 } // '[' ':' ' '
        guard i < n, i > progStart else { return nil }
        let program = UnsafeBufferPointer(rebasing: l[progStart..<i])
        var pid: Int32?
        if l[i] == 0x5B {
            i += 1
            var v: Int32 = 0
            var digits = 0
            while i < n, l[i] >= 0x30, l[i] <= 0x39, digits < 9 { v = v * 10 + Int32(l[i] - 0x30); i += 1; digits += 1 }
            guard i < n, l[i] == 0x5D, digits > 0 else { return nil }
            pid = v
            i += 1
        }
        guard i + 1 < n, l[i] == 0x3A, l[i + 1] == 0x20 else { return nil }
        return (program, pid, UnsafeBufferPointer(rebasing: l[(i + 2)...]))
    }

    static func isSSHD(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        ByteSearch.equals(p, "sshd") || ByteSearch.equals(p, "sshd-session") || ByteSearch.equals(p, "sshd-auth")
    }

    // MARK: Messages

    static func parse(message m: UnsafeBufferPointer<UInt8>, pid: Int32?) -> AuthEvent? {
        guard let first = m.first else { return nil }
        switch first {
        case UInt8(ascii: "F"):
            if ByteSearch.hasPrefix(m, "Failed ") { return failed(m, pid: pid) }
        case UInt8(ascii: "I"):
            if ByteSearch.hasPrefix(m, "Invalid user ") { return userFrom(m, skip: 13, kind: .refusedUser, pid: pid) }
        case UInt8(ascii: "U"):
            // `User U from A not allowed because R`: U is the client's choice and may itself hold
            // " from X not allowed because ", so the reason is the last one, and A the last
            // " from " before it (A never contains a space).
            if ByteSearch.hasPrefix(m, "User "), let r = ByteSearch.findLast(" not allowed because ", in: m), r >= 5 {
                return userFrom(UnsafeBufferPointer(rebasing: m[..<r]), skip: 5, kind: .refusedUser, pid: pid)
            }
        case UInt8(ascii: "R"):
            if ByteSearch.hasPrefix(m, "ROOT LOGIN REFUSED FROM ") {
                var rest = UnsafeBufferPointer(rebasing: m[24...])
                rest = stripPort(rest)
                return event(.refusedUser, address: rest, pid: pid, user: "root")
            }
        case UInt8(ascii: "A"):
            if ByteSearch.hasPrefix(m, "Accepted ") {
                guard let f = ByteSearch.find(" for ", in: m, from: 9) else { return nil }
                return userFrom(m, skip: f + 5, kind: .accepted, pid: pid)
            }
        case UInt8(ascii: "p"):
            if ByteSearch.hasPrefix(m, "pam_unix(sshd:auth): authentication failure;") { return pamUnix(m, pid: pid) }
        case UInt8(ascii: "e"):
            if ByteSearch.hasPrefix(m, "error: PAM: Authentication failure for ") {
                return userFrom(m, skip: 39, kind: .pamFailure, pid: pid)
            }
            if ByteSearch.hasPrefix(m, "error: maximum authentication attempts exceeded for ") {
                return userFrom(m, skip: 52, kind: .connectionEnd, pid: pid)
            }
        case UInt8(ascii: "m"):
            if ByteSearch.hasPrefix(m, "maximum authentication attempts exceeded for ") {
                return userFrom(m, skip: 45, kind: .connectionEnd, pid: pid)
            }
        case UInt8(ascii: "C"):
            if ByteSearch.hasPrefix(m, "Connection closed by invalid user ") { return closedBy(m, skip: 34, kind: .connectionEnd, pid: pid) }
            if ByteSearch.hasPrefix(m, "Connection closed by authenticating user ") { return closedBy(m, skip: 41, kind: .disconnected, pid: pid) }
        default:
            break
        }
        return nil
    }

    /// `Failed <method> for [invalid user ]U from A port P ssh2`
    static func failed(_ m: UnsafeBufferPointer<UInt8>, pid: Int32?) -> AuthEvent? {
        guard let f = ByteSearch.find(" for ", in: m, from: 7) else { return nil }
        let method = UnsafeBufferPointer(rebasing: m[7..<f])
        var userStart = f + 5
        let invalid = ByteSearch.hasPrefix(UnsafeBufferPointer(rebasing: m[userStart...]), "invalid user ")
        if invalid { userStart += 13 }
        if ByteSearch.equals(method, "publickey") && !invalid {
            return nil // clients offer several keys before the right one: not a failure for a valid user
        }
        guard ByteSearch.equals(method, "password") || ByteSearch.equals(method, "keyboard-interactive/pam") || ByteSearch.equals(method, "publickey")
            || ByteSearch.equals(method, "none") || ByteSearch.equals(method, "hostbased") else { return nil }
        return userFrom(m, skip: userStart, kind: .failedAttempt, pid: pid)
    }

    /// Parses `U from A[ port P][ ssh2][ [preauth]]` starting at `skip`, taking the address from
    /// the right so a user name containing spaces or " from " cannot move it.
    static func userFrom(_ m: UnsafeBufferPointer<UInt8>, skip: Int, kind: AuthEventKind, pid: Int32?) -> AuthEvent? {
        guard skip < m.count else { return nil }
        var tail = UnsafeBufferPointer(rebasing: m[skip...])
        tail = stripSuffixes(tail)
        tail = stripPort(tail)
        guard let from = ByteSearch.findLast(" from ", in: tail) else { return nil }
        let user = UnsafeBufferPointer(rebasing: tail[..<from])
        let addr = UnsafeBufferPointer(rebasing: tail[(from + 6)...])
        return event(kind, address: addr, pid: pid, user: string(user))
    }

    /// `Connection closed by [invalid|authenticating] user U A port P [preauth]`: the address is the last word.
    static func closedBy(_ m: UnsafeBufferPointer<UInt8>, skip: Int, kind: AuthEventKind, pid: Int32?) -> AuthEvent? {
        var tail = UnsafeBufferPointer(rebasing: m[skip...])
        tail = stripSuffixes(tail)
        tail = stripPort(tail)
        guard let sp = lastIndex(tail, of: 0x20) else { return nil }
        return event(kind, address: UnsafeBufferPointer(rebasing: tail[(sp + 1)...]), pid: pid,
                     user: string(UnsafeBufferPointer(rebasing: tail[..<sp])))
    }

    /// `pam_unix(sshd:auth): authentication failure; logname= uid=0 ... rhost=A  user=U`
    static func pamUnix(_ m: UnsafeBufferPointer<UInt8>, pid: Int32?) -> AuthEvent? {
        guard let r = ByteSearch.find(" rhost=", in: m, from: 44) else { return nil }
        var e = r + 7
        while e < m.count, m[e] != 0x20 { e += 1 }
        let addr = UnsafeBufferPointer(rebasing: m[(r + 7)..<e])
        var user: String?
        if let u = ByteSearch.find(" user=", in: m, from: e) {
            var ue = u + 6
            while ue < m.count, m[ue] != 0x20 { ue += 1 }
            if ue > u + 6 { user = string(UnsafeBufferPointer(rebasing: m[(u + 6)..<ue])) }
        }
        return event(.pamFailure, address: addr, pid: pid, user: user)
    }

    // MARK: Helpers

    static func event(_ kind: AuthEventKind, address a: UnsafeBufferPointer<UInt8>, pid: Int32?, user: String?) -> AuthEvent? {
        guard !a.isEmpty, a.count <= 253 else { return nil }
        if let key = AddressKey.parseIP(a) { // no String for IP addresses
            return AuthEvent(kind: kind, key: key, hostName: nil, pid: pid, user: user)
        }
        // A scoped IPv6 address ("fe80::1%eth0") is its address; the zone is dropped.
        if let pct = a.firstIndex(of: UInt8(ascii: "%")), let key = AddressKey.parseIPv6(UnsafeBufferPointer(rebasing: a[..<pct])) {
            return AuthEvent(kind: kind, key: key, hostName: nil, pid: pid, user: user)
        }
        // Anything else must be a DNS host name (sshd prints one with UseDNS); tokens that are
        // neither ("1.2.3.4.5", "1::2::3", "[2001:db8::1]", non-ASCII digits) are no source.
        guard AddressKey.isHostName(a) else { return nil }
        let text = String(decoding: a, as: UTF8.self).lowercased()
        return AuthEvent(kind: kind, key: .name(Array(text.utf8)), hostName: text, pid: pid, user: user)
    }

    static func stripSuffixes(_ t0: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var t = t0
        if ByteSearch.hasSuffix(t, " [preauth]") { t = UnsafeBufferPointer(rebasing: t[..<(t.count - 10)]) }
        if ByteSearch.hasSuffix(t, " ssh2") || ByteSearch.hasSuffix(t, " ssh1") { t = UnsafeBufferPointer(rebasing: t[..<(t.count - 5)]) }
        return t
    }

    /// Removes a trailing ` port N`.
    static func stripPort(_ t: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var i = t.count
        while i > 0, t[i - 1] >= 0x30, t[i - 1] <= 0x39 { i -= 1 }
        guard i < t.count, i >= 6 else { return t }
        let before = UnsafeBufferPointer(rebasing: t[..<i])
        return ByteSearch.hasSuffix(before, " port ") ? UnsafeBufferPointer(rebasing: t[..<(i - 6)]) : t
    }

    static func string(_ b: UnsafeBufferPointer<UInt8>) -> String? { b.isEmpty ? nil : String(decoding: b, as: UTF8.self) }

    static func lastIndex(_ b: UnsafeBufferPointer<UInt8>, of byte: UInt8) -> Int? {
        var i = b.count - 1
        while i >= 0 { if b[i] == byte { return i }; i -= 1 }
        return nil
    }
}
