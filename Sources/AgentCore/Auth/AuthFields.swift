/// Field readers shared by the sshd and PAM grammars. Every reader is anchored: it says whether
/// the bytes at a position have exactly the shape OpenSSH or PAM prints there.
enum AuthFields {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// The end of the word starting at `s` (next space, or the end).
    @inline(__always)
    static func wordEnd(_ m: Bytes, from s: Int) -> Int {
        ByteSearch.index(of: 0x20, in: m, from: s) ?? m.count
    }

    /// An address field: IPv4, IPv6 (a `%zone` dropped), or a DNS host name (sshd prints one
    /// with UseDNS, PAM with a resolved rhost). Tokens that are none of these are no source.
    static func address(_ m: Bytes, _ r: Range<Int>) -> AuthSourceAddress? {
        guard !r.isEmpty, r.count <= 253 else { return nil }
        let a = Bytes(rebasing: m[r])
        if let key = AddressKey.parseIP(a) { return AuthSourceAddress(key: key, hostName: nil) } // no String for IPs
        if let pct = a.firstIndex(of: UInt8(ascii: "%")), let key = AddressKey.parseIPv6(Bytes(rebasing: a[..<pct])) {
            return AuthSourceAddress(key: key, hostName: nil)
        }
        guard AddressKey.isHostName(a) else { return nil }
        let text = String(decoding: a, as: UTF8.self).lowercased()
        return AuthSourceAddress(key: .name(Array(text.utf8)), hostName: text)
    }

    /// After ` port N` at `i` (1-5 digits), or nil.
    @inline(__always)
    static func port(_ m: Bytes, at i: Int) -> Int? {
        guard ByteSearch.hasPrefix(Bytes(rebasing: m[min(i, m.count)...]), " port ") else { return nil }
        var j = i + 6
        while j < m.count, j - i - 6 < 5, m[j] >= 0x30, m[j] <= 0x39 { j += 1 }
        return j > i + 6 ? j : nil
    }

    static func trimTrailingSpaces(_ m: Bytes) -> Bytes {
        var n = m.count
        while n > 0, m[n - 1] == 0x20 { n -= 1 }
        return Bytes(rebasing: m[..<n])
    }

    /// `m` without a trailing ` [preauth]` (or ` [net]`, OpenSSH 9.8's split processes).
    static func stripPreauth(_ m: Bytes) -> Bytes {
        if ByteSearch.hasSuffix(m, " [preauth]") { return Bytes(rebasing: m[..<(m.count - 10)]) }
        if ByteSearch.hasSuffix(m, " [net]") { return Bytes(rebasing: m[..<(m.count - 6)]) }
        return m
    }

    /// What may follow an address in the `... from A` forms.
    struct Tail: OptionSet {
        let rawValue: UInt8
        /// ` port N`, optional.
        static let port = Tail(rawValue: 1)
        /// ` ssh1` / ` ssh2` after the port, optional (absent before OpenSSH 3.x and on SunSSH).
        static let proto = Tail(rawValue: 2)
        /// `: <info>` after the protocol (auth_log's trailer: key type and fingerprint,
        /// hostbased client user and host, ssh1 ruser). Its content is not read.
        static let info = Tail(rawValue: 4)
        /// ` via <addr>` (macOS PAM errors name the local address after the client's).
        static let via = Tail(rawValue: 8)
        /// `: <reason>` right after the port (`Unable to negotiate with A port P: ...`,
        /// `banner exchange: Connection from A port P: invalid format`); the port is required.
        static let reason = Tail(rawValue: 16)
        /// `:<code>: <text>` after the port or address (`Received disconnect from A port P:11: Bye`).
        static let disconnectCode = Tail(rawValue: 32)
    }

    /// Whether `m[e...]` (after an address) is exactly a tail `t` allows.
    static func tailFits(_ m: Bytes, from e: Int, _ t: Tail) -> Bool {
        tailStrength(m, from: e, t) != nil
    }

    /// How much of the tail's optional shape is present (` port N` and ` sshN` each add one),
    /// or nil when the tail does not fit. Modern sshd always prints the full shape, so when
    /// one place fits with it, places that fit only with less are text mimicking an address.
    static func tailStrength(_ m: Bytes, from e: Int, _ t: Tail) -> Int? {
        var strength = 0
        let fits = tailFits(m, from: e, t, strength: &strength)
        return fits ? strength : nil
    }

    static func tailFits(_ m: Bytes, from e: Int, _ t: Tail, strength: inout Int) -> Bool {
        var i = e
        if i == m.count { return !t.contains(.reason) }
        if t.contains(.port), let p = port(m, at: i) {
            i = p
            strength += 1
            if i == m.count { return !t.contains(.reason) }
            if t.contains(.reason) { return i + 2 < m.count && m[i] == UInt8(ascii: ":") && m[i + 1] == 0x20 }
        } else if t.contains(.reason) {
            return false
        }
        if t.contains(.disconnectCode) { return disconnectCode(m, at: i) != nil }
        if t.contains(.proto), i + 5 <= m.count, m[i] == 0x20, m[i + 1] == UInt8(ascii: "s"), m[i + 2] == UInt8(ascii: "s"),
           m[i + 3] == UInt8(ascii: "h"), m[i + 4] == UInt8(ascii: "1") || m[i + 4] == UInt8(ascii: "2") {
            i += 5
            strength += 1
            if i == m.count { return true }
            return t.contains(.info) && i + 2 < m.count && m[i] == UInt8(ascii: ":") && m[i + 1] == 0x20
        }
        if t.contains(.via), ByteSearch.hasPrefix(Bytes(rebasing: m[i...]), " via ") {
            let a = i + 5
            return address(m, a..<wordEnd(m, from: a)) != nil && wordEnd(m, from: a) == m.count
        }
        return false
    }

    /// `:<code>: ` or `: <code>: ` at `i`: the disconnect reason code and where its text starts.
    static func disconnectCode(_ m: Bytes, at i0: Int) -> (code: Int, text: Int)? {
        var i = i0
        guard i < m.count, m[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        while i < m.count, m[i] == 0x20 { i += 1 }
        var code = 0
        let d = i
        while i < m.count, i - d < 3, m[i] >= 0x30, m[i] <= 0x39 { code = code * 10 + Int(m[i] - 0x30); i += 1 }
        guard i > d, i < m.count, m[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        if i < m.count, m[i] == 0x20 { i += 1 }
        return (code, i)
    }

    /// Where the address of a `<user> from <A><tail>` form is, searching every ` from ` at or
    /// after `start`: the user is free text (and may itself hold ` from <addr> port N ssh2`),
    /// so each occurrence is tried and only those whose address and tail fit count.
    enum Located {
        case none
        /// The only fit: the address, and where the user text ends (the ` from `).
        case one(AuthSourceAddress, userEnd: Int)
        /// Several fit: attacker text mimics the real field; nothing is guessed.
        case many([AuthSourceAddress])
    }

    static func locate(_ m: Bytes, from start: Int, marker: StaticString = " from ", tail: Tail) -> Located {
        // The first fit lives in locals: only a second one (crafted text) allocates.
        var first: (AuthSourceAddress, Int)?
        var more: [AuthSourceAddress] = []
        var best = 0
        var i = start
        let k = marker.utf8CodeUnitCount
        while let f = ByteSearch.find(marker, in: m, from: i) {
            i = f + 1
            let a = f + k
            let e = wordEnd(m, from: a)
            // The address word ends at a space, or before the ':' of a disconnect code
            // (`from 198.51.100.34: 11: Bye`; an IPv6 address never ends in ':').
            var end = e
            if tail.contains(.disconnectCode), e > a, m[e - 1] == UInt8(ascii: ":") { end = e - 1 }
            guard let strength = tailStrength(m, from: end, tail), strength >= best, let addr = address(m, a..<end) else { continue }
            if strength > best || first == nil {
                first = (addr, f); more.removeAll(); best = strength
            } else {
                more.append(addr)
                if more.count > 4 { break }
            }
        }
        guard let first else { return .none }
        return more.isEmpty ? .one(first.0, userEnd: first.1) : .many([first.0] + more)
    }

    static func string(_ m: Bytes, _ r: Range<Int>) -> String? {
        r.isEmpty ? nil : String(decoding: Bytes(rebasing: m[r]), as: UTF8.self)
    }

    /// ASCII case-insensitive prefix test.
    static func hasPrefixIgnoringCase(_ m: Bytes, _ s: StaticString, at i: Int = 0) -> Bool {
        let k = s.utf8CodeUnitCount
        guard i + k <= m.count else { return false }
        let p = s.utf8Start
        for j in 0..<k where m[i + j] | 0x20 != p[j] | 0x20 { return false }
        return true
    }
}
