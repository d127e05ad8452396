/// sshd's messages, as OpenSSH prints them (from its log calls, not from samples).
///
/// | message (format string, OpenSSH source) | since | kind |
/// |---|---|---|
/// | `Failed %s for %s%.100s from %.200s port %d ssh2%s%s` (auth.c `auth_log`; `%s` = `invalid user `; trailer `: <info>`) | 3.x; port 3.x; info 6.3 | failedAttempt / addressSeen |
/// | `Accepted %s for %.100s from %.200s port %d ssh2%s%s` (auth_log) | 3.x | accepted |
/// | `Postponed %s for ...`, `Partial %s for ...` (auth_log) | 3.x / 6.2 | addressSeen |
/// | `Invalid user %.100s from %.100s port %d` (auth.c `getpwnamallow`) | 3.x; port 7.5 | refusedUser |
/// | `User %.100s from %.100s not allowed because <reason>` (auth.c `allowed_user`; reasons: `not listed in AllowUsers`, `listed in DenyUsers`, `not in any group`, `a group is listed in DenyGroups`, `none of user's groups are listed in AllowGroups`) | 3.x | refusedUser |
/// | `User %.100s not allowed because account is locked` / `shell ... does not exist` / `... is not executable` (allowed_user, no address) | 3.x | refusedUser (address from the connection) |
/// | `input_userauth_request: invalid user %s [preauth]` (auth2.c, no address) | 5.x-7.4 | refusedUser (address from the connection) |
/// | `ROOT LOGIN REFUSED FROM %.200s port %d` (auth.c `auth_root_allowed`) | 3.x; port 7.5 | refusedUser |
/// | `error: maximum authentication attempts exceeded for %s%.100s from %.200s port %d ssh2` (auth.c `auth_maxtries_exceeded`) | 6.8 | connectionEnd |
/// | `Disconnecting: Too many authentication failures[ for %.100s]` (packet_disconnect, no address) | ≤ 6.7 | connectionEnd (address from the connection) |
/// | `Disconnecting {invalid,authenticating} user %s %s port %d: <reason>` (packet.c `sshpkt_fmt_connection_id`) | 7.5 | connectionEnd |
/// | `Connection closed by {invalid,authenticating} user %s %s port %d [preauth]` | 7.5 | connectionEnd / disconnected |
/// | `Connection reset by ...`, `Disconnected from {invalid,authenticating} user ...` (same id) | 7.5 | connectionEnd / disconnected |
/// | `Connection closed by %s port %d [preauth]`, `Connection reset by ...`, `Disconnected from ...` (bare address) | 6.x | preauthClose |
/// | `Received disconnect from %s port %d:%u: %.400s` (packet.c; `: %u: ` before 7.2) — code 3 with `Auth fail` | 5.x | connectionEnd; other codes disconnected |
/// | `Connection from %s port %d on %s port %d` (sshd.c, LogLevel VERBOSE) | 5.x | addressSeen |
/// | `error: PAM: %s for %s%.100s from %.100s` (auth-pam.c `sshpam_auth_passwd`; `%s` = `illegal user `; message from pam_strerror, any case; macOS adds ` via <addr>`) | 3.x | pamFailure |
/// | `pam_unix(sshd:auth): authentication failure; ... rhost=%s[  user=%s]` (Linux-PAM pam_unix) | — | pamFailure |
/// | `Did not receive identification string from %s[ port %d]` (sshd.c) | 3.x; port 7.5 | probe |
/// | `Bad protocol version identification '%.100s' from %s[ port %d]` | 3.x | probe |
/// | `[fatal: ]Unable to negotiate with %s port %d: no matching %s found. Their offer: %s` (kex.c) | 6.x | probe |
/// | `fatal: Unable to negotiate a key exchange method`, `fatal: no matching mac found: ...` (no address) | ≤ 6.x | probe (address from the connection) |
/// | `Timeout before authentication for %s port %d` (sshd.c grace alarm) | 7.x | probe |
/// | `banner exchange: Connection from %s port %d: %s` (sshd.c) | 8.x | probe |
/// | `error: kex_exchange_identification: ...`, `fatal: Read from socket failed: Connection reset by peer` (no address) | 8.x | probe (address from the connection) |
///
/// The "since" column is where each form is known to appear (OpenSSH's history and the notes in
/// fail2ban's filter), not a release-by-release audit; the parser accepts each form whatever the
/// version.
///
/// Every address is the field the format string puts there: attacker-chosen text (user names,
/// `ruser`, hostbased client user and host, key comments and certificate ids in the info
/// trailer, protocol identification strings) can hold ` from 10.0.0.1 port 22 ssh2` and so look
/// like a second address; a form is matched only where its whole tail fits, and a line that
/// fits at more than one place is ambiguous (left to the connection's address or counted).
enum SSHDGrammar {
    typealias Bytes = UnsafeBufferPointer<UInt8>
    typealias F = AuthFields

    static func parse(_ m0: Bytes, pid: Int32?) -> AuthEvent? {
        let trimmed = F.trimTrailingSpaces(m0)
        var m = F.stripPreauth(trimmed)
        let preauth = m.count < trimmed.count
        // sshd prefixes `error: ` / `fatal: ` to messages of those levels, but not to those its
        // privilege-separated child forwards to the monitor: both forms exist for one message.
        if ByteSearch.hasPrefix(m, "error: ") || ByteSearch.hasPrefix(m, "fatal: ") { m = Bytes(rebasing: m[7...]) }
        guard let first = m.first else { return nil }
        switch first {
        case UInt8(ascii: "F"):
            if ByteSearch.hasPrefix(m, "Failed ") { return authLog(m, verb: 7, pid: pid, success: false) }
        case UInt8(ascii: "A"):
            if ByteSearch.hasPrefix(m, "Accepted ") { return authLog(m, verb: 9, pid: pid, success: true) }
        case UInt8(ascii: "P"):
            if F.hasPrefixIgnoringCase(m, "PAM: ") { return pamError(m, pid: pid) }
            if ByteSearch.hasPrefix(m, "Protocol major versions differ") { return addressless(.probe, pid) }
            if ByteSearch.hasPrefix(m, "Postponed ") { return addressOnly(authLog(m, verb: 10, pid: pid, success: false)) }
            if ByteSearch.hasPrefix(m, "Partial ") { return addressOnly(authLog(m, verb: 8, pid: pid, success: false)) }
        case UInt8(ascii: "I"):
            if ByteSearch.hasPrefix(m, "Invalid user ") {
                var e = userFrom(m, start: 13, tail: .port, kind: .refusedUser, pid: pid)
                e?.invalidUser = true
                return e
            }
        case UInt8(ascii: "U"):
            if ByteSearch.hasPrefix(m, "User ") { return notAllowed(m, pid: pid) }
            if ByteSearch.hasPrefix(m, "Unable to negotiate with ") { return negotiate(m, pid: pid) }
            if ByteSearch.hasPrefix(m, "Unable to negotiate a key exchange method") { return addressless(.probe, pid) }
        case UInt8(ascii: "m"):
            if ByteSearch.hasPrefix(m, "maximum authentication attempts exceeded for ") {
                var ev = userFrom(m, start: 45, tail: [.port, .proto], kind: .connectionEnd, pid: pid, invalidPrefix: "invalid user ")
                ev?.once = AuthEvent.onceMaxAttempts
                return ev
            }
        case UInt8(ascii: "n"):
            if ByteSearch.hasPrefix(m, "no matching ") { return addressless(.probe, pid) }
        case UInt8(ascii: "k"):
            if ByteSearch.hasPrefix(m, "kex_exchange_identification: ") { return addressless(.probe, pid) }
        case UInt8(ascii: "R"):
            if ByteSearch.hasPrefix(m, "Read from socket failed: ") { return addressless(.probe, pid) }
            if ByteSearch.hasPrefix(m, "ROOT LOGIN REFUSED FROM ") {
                let a = 24, e = F.wordEnd(m, from: a)
                guard let addr = F.address(m, a..<e), F.tailFits(m, from: e, .port) else { return nil }
                return AuthEvent(kind: .attemptRefused, source: addr, pid: pid, user: "root")
            }
            if ByteSearch.hasPrefix(m, "Received disconnect from ") { return receivedDisconnect(m, pid: pid) }
        case UInt8(ascii: "r"):
            if ByteSearch.hasPrefix(m, "refused connect from ") { return tcpWrappers(m, pid: pid) }
        case UInt8(ascii: "C"):
            if ByteSearch.hasPrefix(m, "Connection closed by ") { return closedBy(m, skip: 21, pid: pid, preauth: preauth) }
            if ByteSearch.hasPrefix(m, "Connection reset by ") { return closedBy(m, skip: 20, pid: pid, preauth: preauth) }
            if ByteSearch.hasPrefix(m, "Connection from ") {
                let a = 16, e = F.wordEnd(m, from: a)
                guard let addr = F.address(m, a..<e), let p = F.port(m, at: e),
                      p == m.count || ByteSearch.hasPrefix(Bytes(rebasing: m[p...]), " on ") else { return nil }
                var ev = AuthEvent(kind: .addressSeen, source: addr, pid: pid, user: nil)
                ev.once = AuthEvent.onceOpened
                return ev
            }
        case UInt8(ascii: "D"):
            if ByteSearch.hasPrefix(m, "Disconnected from ") { return closedBy(m, skip: 18, pid: pid, preauth: preauth) }
            if ByteSearch.hasPrefix(m, "Disconnecting: Too many authentication failures") {
                var ev = AuthEvent(kind: .connectionEnd, source: nil, pid: pid, user: nil)
                ev.once = AuthEvent.onceDisconnecting
                return ev
            }
            if ByteSearch.hasPrefix(m, "Disconnecting ") { return disconnecting(m, pid: pid) }
            if ByteSearch.hasPrefix(m, "Did not receive identification string from ") {
                return lastAddress(m, start: 38, tail: .port, kind: .probe, pid: pid)
            }
        case UInt8(ascii: "B"):
            if ByteSearch.hasPrefix(m, "Bad protocol version identification ") {
                return lastAddress(m, start: 35, tail: .port, kind: .probe, pid: pid)
            }
        case UInt8(ascii: "T"):
            if ByteSearch.hasPrefix(m, "Timeout before authentication") && !ByteSearch.hasPrefix(m, "Timeout before authentication for ") {
                return addressless(.probe, pid)
            }
            if ByteSearch.hasPrefix(m, "Timeout before authentication for ") {
                let a = 34, e = F.wordEnd(m, from: a)
                guard let addr = F.address(m, a..<e), F.tailFits(m, from: e, .port) else { return nil }
                return AuthEvent(kind: .probe, source: addr, pid: pid, user: nil)
            }
        case UInt8(ascii: "b"):
            if ByteSearch.hasPrefix(m, "banner exchange: Connection from ") {
                let a = 33, e = F.wordEnd(m, from: a)
                guard let addr = F.address(m, a..<e), F.tailFits(m, from: e, [.port, .reason]) else { return nil }
                return AuthEvent(kind: .probe, source: addr, pid: pid, user: nil)
            }
        case UInt8(ascii: "i"):
            if ByteSearch.hasPrefix(m, "input_userauth_request: invalid user ") {
                var e = AuthEvent(kind: .refusedUser, source: nil, pid: pid, user: F.string(m, 37..<m.count))
                e.invalidUser = true
                return e
            }
        case UInt8(ascii: "p"):
            if ByteSearch.hasPrefix(m, "pam_unix(sshd:auth): authentication failure;") {
                return PAMGrammar.unixFailure(m, pid: pid, service: nil)
            }
        default:
            break
        }
        return nil
    }

    /// A line that names no address; its connection's address stands in (`AuthAttemptCounter`).
    static func addressless(_ kind: AuthEventKind, _ pid: Int32?) -> AuthEvent {
        AuthEvent(kind: kind, source: nil, pid: pid, user: nil)
    }

    /// `Failed|Accepted|Postponed|Partial <method> for [invalid user ]U from A port P ssh2[: info]`.
    static func authLog(_ m: Bytes, verb: Int, pid: Int32?, success: Bool) -> AuthEvent? {
        guard let f = ByteSearch.find(" for ", in: m, from: verb) else { return nil }
        let methodRange = verb..<f
        guard !methodRange.isEmpty, F.wordEnd(m, from: verb) == f else { return nil } // a method is one word
        var userStart = f + 5
        let invalid = !success && ByteSearch.hasPrefix(Bytes(rebasing: m[userStart...]), "invalid user ")
        if invalid { userStart += 13 }
        guard let method = AuthMethod(Bytes(rebasing: m[methodRange])) else { return nil }
        // A client tries the keys and methods it has; for an existing account those attempts are
        // not failures (OpenSSH logs them only at VERBOSE, except the last few before MaxAuthTries).
        let probing = method == .publickey || method == .none || method == .gssapiWithMic || method == .gssapiKeyex
        let kind: AuthEventKind = success ? .accepted : (probing && !invalid ? .addressSeen : .failedAttempt)
        var e = userFrom(m, start: userStart, tail: [.port, .proto, .info], kind: kind, pid: pid)
        e?.invalidUser = invalid
        e?.method = method
        return e
    }

    static func addressOnly(_ e: AuthEvent?) -> AuthEvent? {
        guard var e else { return nil }
        e.kind = .addressSeen
        return e
    }

    /// `<U> from <A><tail>` from `start`: the user is everything before the one ` from ` whose
    /// address and tail fit.
    static func userFrom(_ m: Bytes, start: Int, tail: F.Tail, kind: AuthEventKind, pid: Int32?, invalidPrefix: StaticString? = nil) -> AuthEvent? {
        guard start <= m.count else { return nil }
        var userStart = start
        var invalid = false
        if let p = invalidPrefix, ByteSearch.hasPrefix(Bytes(rebasing: m[start...]), p) {
            userStart += p.utf8CodeUnitCount
            invalid = true
        }
        switch F.locate(m, from: max(userStart - 1, 0), tail: tail) {
        case .none:
            return nil
        case .one(let addr, let userEnd):
            var e = AuthEvent(kind: kind, source: addr, pid: pid, user: userEnd > userStart ? F.string(m, userStart..<userEnd) : nil)
            e.invalidUser = invalid
            return e
        case .many(let all):
            var e = AuthEvent(kind: kind, source: nil, pid: pid, user: nil)
            e.candidates = all
            e.invalidUser = invalid
            return e
        }
    }

    /// Forms whose free text comes before ` from A[ port P]` at the very end: the last fit.
    static func lastAddress(_ m: Bytes, start: Int, tail: F.Tail, kind: AuthEventKind, pid: Int32?) -> AuthEvent? {
        guard start < m.count, let f = ByteSearch.findLast(" from ", in: m), f >= start - 6 else { return nil }
        let a = f + 6, e = F.wordEnd(m, from: a)
        guard let addr = F.address(m, a..<e), F.tailFits(m, from: e, tail) else { return nil }
        return AuthEvent(kind: kind, source: addr, pid: pid, user: nil)
    }

    /// `User U from A not allowed because <reason>`; `User U not allowed because <reason>` (no address).
    static func notAllowed(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        guard let r = ByteSearch.findLast(" not allowed because ", in: m), r > 5 else { return nil }
        let reason = Bytes(rebasing: m[(r + 21)...])
        let addressed = ByteSearch.equals(reason, "not listed in AllowUsers") || ByteSearch.equals(reason, "listed in DenyUsers")
            || ByteSearch.equals(reason, "not in any group") || ByteSearch.equals(reason, "a group is listed in DenyGroups")
            || ByteSearch.equals(reason, "none of user's groups are listed in AllowGroups")
        if addressed { return userFrom(Bytes(rebasing: m[..<r]), start: 5, tail: [], kind: .refusedUser, pid: pid) }
        let local = ByteSearch.equals(reason, "account is locked") || ByteSearch.hasPrefix(reason, "shell ")
        return local ? AuthEvent(kind: .refusedUser, source: nil, pid: pid, user: F.string(m, 5..<r)) : nil
    }

    /// `error: PAM: <pam_strerror text> for [illegal user ]U from A[ via B]`, any letter case.
    static func pamError(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        let s = 5
        let known = F.hasPrefixIgnoringCase(m, "authentication failure for ", at: s) ? 27
            : F.hasPrefixIgnoringCase(m, "authentication error for ", at: s) ? 25
            : F.hasPrefixIgnoringCase(m, "user not known to the underlying authentication module for ", at: s) ? 59
            : F.hasPrefixIgnoringCase(m, "permission denied for ", at: s) ? 22 : 0
        guard known > 0 else { return nil }
        return userFrom(m, start: s + known, tail: [.port, .via], kind: .attemptRefused, pid: pid, invalidPrefix: "illegal user ")
    }

    /// `Connection closed by|Connection reset by|Disconnected from` + `invalid user U A port P`,
    /// `authenticating user U A port P`, `user U A port P` (after a session) or `A[ port P]`.
    static func closedBy(_ m: Bytes, skip: Int, pid: Int32?, preauth: Bool) -> AuthEvent? {
        let rest = Bytes(rebasing: m[skip...])
        let kind: AuthEventKind
        var userStart = skip
        var invalid = false
        if ByteSearch.hasPrefix(rest, "invalid user ") {
            kind = .connectionEnd; userStart += 13; invalid = true
        } else if ByteSearch.hasPrefix(rest, "authenticating user ") {
            kind = .disconnected; userStart += 20
        } else if ByteSearch.hasPrefix(rest, "user ") {
            kind = .disconnected; userStart += 5
        } else {
            let e = F.wordEnd(m, from: skip)
            guard let addr = F.address(m, skip..<e), F.tailFits(m, from: e, .port) else { return nil }
            // sshd logs a bare-address close only for a connection that never authenticated.
            var ev = AuthEvent(kind: preauth ? .preauthClose : .disconnected, source: addr, pid: pid, user: nil)
            ev.once = AuthEvent.onceClosed
            return ev
        }
        // The address is the last word before ` port N` at the end; the user is free text before it.
        var p = m.count
        while p > userStart, m[p - 1] >= 0x30, m[p - 1] <= 0x39 { p -= 1 }
        guard p < m.count, p - 6 > userStart, ByteSearch.hasSuffix(Bytes(rebasing: m[..<p]), " port ") else { return nil }
        let addrEnd = p - 6
        var a = addrEnd
        while a > userStart, m[a - 1] != 0x20 { a -= 1 }
        guard a > userStart, let addr = F.address(m, a..<addrEnd) else { return nil }
        var e = AuthEvent(kind: kind, source: addr, pid: pid, user: F.string(m, userStart..<(a - 1)))
        e.invalidUser = invalid
        e.once = AuthEvent.onceClosed
        return e
    }

    /// `Disconnecting {invalid|authenticating} user U A port P: <reason>`: OpenSSH's reasons
    /// start with fixed text; the address is the word before the ` port N: ` that precedes one.
    static func disconnecting(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        let rest = Bytes(rebasing: m[14...])
        let invalid = ByteSearch.hasPrefix(rest, "invalid user ")
        guard invalid || ByteSearch.hasPrefix(rest, "authenticating user ") else { return nil }
        let userStart = 14 + (invalid ? 13 : 20)
        var found: [(AuthSourceAddress, Int)] = []
        var change = false
        var i = userStart
        while let p = ByteSearch.find(" port ", in: m, from: i), found.count < 5 {
            i = p + 1
            guard let afterPort = F.port(m, at: p), afterPort + 2 < m.count, m[afterPort] == UInt8(ascii: ":"), m[afterPort + 1] == 0x20 else { continue }
            let reason = Bytes(rebasing: m[(afterPort + 2)...])
            guard ByteSearch.hasPrefix(reason, "Too many authentication failures") || ByteSearch.hasPrefix(reason, "Change of username or service not allowed")
                || ByteSearch.hasPrefix(reason, "Protocol error") || ByteSearch.hasPrefix(reason, "Authentication") else { continue }
            var a = p
            while a > userStart, m[a - 1] != 0x20 { a -= 1 }
            guard a > userStart, let addr = F.address(m, a..<p) else { continue }
            found.append((addr, a - 1))
            change = ByteSearch.hasPrefix(reason, "Change of username")
        }
        guard !found.isEmpty else { return nil }
        var e = AuthEvent(kind: change ? .violation : .connectionEnd, source: nil, pid: pid, user: nil)
        e.invalidUser = invalid
        e.once = AuthEvent.onceDisconnecting
        if found.count == 1 {
            e.source = found[0].0
            e.user = F.string(m, userStart..<found[0].1)
        } else {
            e.candidates = found.map(\.0)
        }
        return e
    }

    /// `Received disconnect from A[ port P]:<code>: <text>`: code 3 with `Auth fail` is a client
    /// giving up after failing (JSch); any other code settles the connection.
    static func receivedDisconnect(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        let a = 25
        var e = F.wordEnd(m, from: a)
        if e > a, m[e - 1] == UInt8(ascii: ":") { e -= 1 }
        guard let addr = F.address(m, a..<e) else { return nil }
        var i = e
        if let p = F.port(m, at: i) { i = p }
        guard let (code, text) = F.disconnectCode(m, at: i) else { return nil }
        let authFail = code == 3 && ByteSearch.hasSuffix(m, "Auth fail") && text <= m.count
        var ev = AuthEvent(kind: authFail ? .connectionEnd : .disconnected, source: addr, pid: pid, user: nil)
        ev.once = AuthEvent.onceReceivedDisconnect
        return ev
    }

    /// libwrap's `refused connect from <host> (<addr>)` (sshd built with tcp_wrappers): the
    /// address is the parenthesised last word; the host part may be anything the client's DNS says.
    static func tcpWrappers(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        guard m.last == UInt8(ascii: ")"), let open = ByteSearch.findLast(" (", in: m), open >= 20 else { return nil }
        guard let addr = F.address(m, (open + 2)..<(m.count - 1)) else { return nil }
        return AuthEvent(kind: .connectionEnd, source: addr, pid: pid, user: nil)
    }

    /// `Unable to negotiate with A port P: no matching ... found. Their offer: ...`.
    static func negotiate(_ m: Bytes, pid: Int32?) -> AuthEvent? {
        let a = 25, e = F.wordEnd(m, from: a)
        guard let addr = F.address(m, a..<e), F.tailFits(m, from: e, [.port, .reason]) else { return nil }
        return AuthEvent(kind: .probe, source: addr, pid: pid, user: nil)
    }
}
