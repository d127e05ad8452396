/// What one sshd / PAM auth log line means for brute-force detection.
public enum AuthEventKind: String, Sendable, Equatable {
    /// `Failed password|keyboard-interactive/pam for [invalid user] U from A port P`, and
    /// `Failed publickey for invalid user U ...` (one real attempt each).
    case failedAttempt
    /// `Invalid user U from A`, `User U from A not allowed because ...`, `ROOT LOGIN REFUSED FROM A`:
    /// announced before the attempt on the same connection.
    case refusedUser
    /// `pam_unix(sshd:auth): authentication failure; ... rhost=A` and `error: PAM: Authentication failure for U from A`:
    /// logged for the same attempt as the `Failed ...` line that follows.
    case pamFailure
    /// `maximum authentication attempts exceeded ...` and `Connection closed by invalid user U A port P [preauth]`:
    /// end of a connection; a failure only if nothing on that connection was counted yet.
    case connectionEnd
    /// `Accepted ... for U from A`: a success, never a failure.
    case accepted
    /// `Connection closed by authenticating user U A port P [preauth]`: a valid user's connection
    /// ended; never a failure by itself (key-only clients end this way too).
    case disconnected
}

/// One parsed auth line.
public struct AuthEvent: Sendable, Equatable {
    public let kind: AuthEventKind
    /// Source address in binary form: what the counters and windows key on.
    public let key: AddressKey
    /// The source's text when it is a host name (nil for IP addresses).
    public let hostName: String?
    /// The sshd process id, which identifies one connection; nil when the line has none.
    public let pid: Int32?
    public let user: String?

    /// Source address as text: IPv4, IPv6 (RFC 5952, `::ffff:` mapping removed) or the host name.
    public var address: String { hostName ?? key.ipText ?? "" }

    public init(kind: AuthEventKind, key: AddressKey, hostName: String?, pid: Int32?, user: String?) {
        self.kind = kind
        self.key = key
        self.hostName = hostName
        self.pid = pid
        self.user = user
    }

    /// From address text (tests, the journal path): IP text is parsed, anything else is a host name.
    public init(kind: AuthEventKind, address: String, pid: Int32?, user: String?) {
        let bytes = Array(address.utf8)
        if let k = AddressKey.parseIP(bytes) {
            self.init(kind: kind, key: k, hostName: nil, pid: pid, user: user)
        } else {
            self.init(kind: kind, key: .name(bytes), hostName: address, pid: pid, user: user)
        }
    }
}
