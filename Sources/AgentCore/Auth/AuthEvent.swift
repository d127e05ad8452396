/// What one sshd / PAM auth log line means for the auth detectors. `AuthAttemptCounter` turns
/// the kinds into attempts, counting each attempt once although sshd and PAM log it up to four
/// times.
public enum AuthEventKind: String, Sendable, Equatable {
    /// `Failed <method> for [invalid user ]U from A port P ssh2[: info]`: one real attempt
    /// (publickey, none and gssapi for a valid user are a client trying what it has, not failures).
    case failedAttempt
    /// `Invalid user U from A`, `User U from A not allowed because ...`: a login that cannot
    /// succeed, announced once per connection before its attempts.
    case refusedUser
    /// `pam_unix(sshd:auth): authentication failure; ... rhost=A`: PAM's first module refused.
    /// Usually the echo of a `Failed` line on the same connection, but a later module may still
    /// accept (pam_unix then pam_ldap); held until that line, a success or the connection's end
    /// says which. With keyboard-interactive it comes from a child process whose pid no other
    /// line shares, and is never counted (sshd's own `error: PAM:` line is).
    case pamFailure
    /// One attempt refused, logged before the `Failed` line of that same attempt (if one
    /// follows): `error: PAM: Authentication failure for U from A` (keyboard-interactive),
    /// `ROOT LOGIN REFUSED FROM A`. Counted at once; the `Failed` line that follows is its echo.
    case attemptRefused
    /// A second account tried on one connection: `Disconnecting invalid user U A port P: Change
    /// of username or service not allowed: (U,s) -> (V,s)`. Always one more failure.
    case violation
    /// The connection ended in failure: `maximum authentication attempts exceeded`,
    /// `Connection closed by invalid user`, `Disconnecting ...: Too many authentication failures`,
    /// `Received disconnect ...: 3: ... Auth fail`. A failure only if nothing on it was counted yet.
    case connectionEnd
    /// `Accepted <method> for U from A port P ssh2`: a success.
    case accepted
    /// The connection ended without a failure of its own (`Connection closed by authenticating
    /// user`, `Received disconnect ...: 11: ...`): settles what the connection still held.
    case disconnected
    /// A pre-authentication close by a bare address (`Connection closed by A port P [preauth]`,
    /// `Connection reset by A ...`, `Disconnected from A ...`): settles what the connection held;
    /// a probe when nothing else happened on it.
    case preauthClose
    /// Names the connection's address and nothing more: `Connection from A port P on B port Q`,
    /// `Failed publickey for U from A ...` (valid user), `Postponed ...`.
    case addressSeen
    /// A scan rather than a login (fail2ban's aggressive mode): `Did not receive identification
    /// string`, `Bad protocol version identification`, `Unable to negotiate`, `Timeout before
    /// authentication`, `banner exchange: ...`, `kex_exchange_identification: ...`.
    case probe
    /// `pam_unix(<service>:auth): authentication failure; ... rhost=A` from a service other than
    /// sshd (vsftpd, dovecot, a web UI): one line per attempt.
    case serviceFailure
}

/// sshd's authentication methods (auth2.c's table; `unknown` is what it logs for any other
/// name a client sends). A submethod (`keyboard-interactive/pam`) is its method.
public enum AuthMethod: String, Sendable, Equatable {
    case password, publickey, hostbased, none, unknown
    case keyboardInteractive = "keyboard-interactive"
    case gssapiWithMic = "gssapi-with-mic"
    case gssapiKeyex = "gssapi-keyex"

    /// From the bytes of a log line, without making a String.
    init?(_ b: UnsafeBufferPointer<UInt8>) {
        let n = ByteSearch.index(of: UInt8(ascii: "/"), in: b).map { UnsafeBufferPointer(rebasing: b[..<$0]) } ?? b
        if ByteSearch.equals(n, "password") { self = .password }
        else if ByteSearch.equals(n, "keyboard-interactive") { self = .keyboardInteractive }
        else if ByteSearch.equals(n, "publickey") { self = .publickey }
        else if ByteSearch.equals(n, "hostbased") { self = .hostbased }
        else if ByteSearch.equals(n, "none") { self = .none }
        else if ByteSearch.equals(n, "unknown") { self = .unknown }
        else if ByteSearch.equals(n, "gssapi-with-mic") { self = .gssapiWithMic }
        else if ByteSearch.equals(n, "gssapi-keyex") { self = .gssapiKeyex }
        else { return nil }
    }
}

/// A source address: binary key, and the text when it is a host name.
public struct AuthSourceAddress: Sendable, Equatable {
    public var key: AddressKey
    /// The text of a host-name source (nil for IP addresses, which are printed from `key`).
    public var hostName: String?

    public init(key: AddressKey, hostName: String?) {
        self.key = key
        self.hostName = hostName
    }

    /// From address text (tests, the journal path): IP text is parsed, anything else is a host name.
    public init(_ text: String) {
        let bytes = Array(text.utf8)
        if let k = AddressKey.parseIP(bytes) { self.init(key: k, hostName: nil) } else { self.init(key: .name(bytes), hostName: text) }
    }

    public var text: String { hostName ?? key.ipText ?? "" }
}

/// One parsed auth line.
public struct AuthEvent: Sendable, Equatable {
    public var kind: AuthEventKind
    /// The address the line names; nil when it names none (`Disconnecting: Too many
    /// authentication failures for root`), or names several that attacker-chosen text could
    /// have put there (`candidates`). The connection's address (by pid) stands in for it.
    public var source: AuthSourceAddress?
    /// When the line's shape fits more than one address: every one it could be. Resolved only by
    /// the connection's address from an unambiguous line; otherwise counted as ambiguous.
    public var candidates: [AuthSourceAddress] = []
    /// The sshd process id, which identifies one connection; nil when the line has none.
    public var pid: Int32?
    /// The account named (attacker-chosen for invalid users).
    public var user: String?
    /// The line says the account does not exist (`invalid user`, `illegal user`, `Invalid user`).
    public var invalidUser = false
    /// The method of `Failed`/`Accepted` lines.
    public var method: AuthMethod?
    /// The PAM service of a `serviceFailure` (nil: sshd).
    public var service: String?
    /// Which once-per-connection line this is (`Received disconnect`, `Connection closed`,
    /// `Disconnecting`, `maximum ... exceeded`, `Connection from`), as a bit: seeing the same one
    /// twice on a pid means the pid now serves a new connection. 0 for lines that repeat.
    public var once: UInt8 = 0

    public static let onceReceivedDisconnect: UInt8 = 1
    public static let onceClosed: UInt8 = 2
    public static let onceDisconnecting: UInt8 = 4
    public static let onceMaxAttempts: UInt8 = 8
    /// `Connection from A port P on B port Q` opens a connection: always a new one.
    public static let onceOpened: UInt8 = 0x80

    public init(kind: AuthEventKind, source: AuthSourceAddress?, pid: Int32?, user: String?) {
        self.kind = kind
        self.source = source
        self.pid = pid
        self.user = user
    }

    /// From address text (tests): IP text is parsed, anything else is a host name.
    public init(kind: AuthEventKind, address: String, pid: Int32?, user: String?) {
        self.init(kind: kind, source: AuthSourceAddress(address), pid: pid, user: user)
    }

    public var key: AddressKey? { source?.key }
    public var address: String { source?.text ?? "" }
    public var isAmbiguous: Bool { !candidates.isEmpty }
}
