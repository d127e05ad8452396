/// What one auth line adds up to, for one source address.
public struct AuthTally: Sendable, Equatable {
    public var source: AuthSourceAddress
    /// New failed attempts (each attempt once, however many lines sshd and PAM wrote for it).
    public var failures = 0
    /// Pre-authentication probes (scans, bad banners, no matching algorithms).
    public var probes = 0
    /// The line was a successful login.
    public var accepted = false
    /// The account the line names (attacker-chosen for invalid users), and whether it does not exist.
    public var user: String?
    public var invalidUser = false
    /// `Failed`/`Accepted` method.
    public var method: AuthMethod?
    /// The PAM service for a non-sshd failure (nil: sshd).
    public var service: String?

    public init(source: AuthSourceAddress) { self.source = source }

    /// `failures` failed attempts from `address` (tests, the attack simulator).
    public static func failures(_ address: String, _ failures: Int = 1, user: String? = nil, invalidUser: Bool = false) -> AuthTally {
        var t = AuthTally(source: AuthSourceAddress(address))
        t.failures = failures
        t.user = user
        t.invalidUser = invalidUser
        return t
    }
}

/// Turns auth events into attempts, counting each attempt once although sshd and PAM log it up
/// to four times, and giving lines that name no address (or an ambiguous one) the address of
/// their connection. One sshd process (pid) is one connection:
///
/// - `Invalid user`/`not allowed` count one failure at once and leave a credit that the
///   attempt lines for that same login then use up.
/// - `error: PAM: ...` and `ROOT LOGIN REFUSED` count one failure at once; the `Failed` line of
///   the same attempt that may follow is their echo.
/// - A pam_unix failure (`pam_unix ... rhost=`) is held: the `Failed` line that follows is the
///   same attempt; a success for the same account means PAM's first module failed and another
///   passed (no failure); the connection's end, a success for another account or a PAM failure
///   for another account settles it as a failure.
/// - A connection-end line counts one failure only when nothing on the connection was counted.
/// - Lines without an address (`Disconnecting: Too many authentication failures`,
///   `kex_exchange_identification: ...`) wait on the connection for a line that names it.
public struct AuthAttemptCounter: Sendable {
    /// One connection's state: plain bits (no references), so the table copies and evicts it
    /// without reference counting.
    struct Connection: Sendable {
        var key: AddressKey?
        /// A keyed hash of the account of the held PAM failures (0: not named).
        var pamUser: UInt64 = 0
        var pamPending: UInt8 = 0
        var credit: UInt8 = 0
        /// An attempt counted from its refusal line, whose `Failed` line may follow.
        var echo = false
        /// The once-per-connection lines seen (`AuthEvent.once` bits).
        var once: UInt8 = 0
        /// Address-less failures and probes waiting for the connection's address.
        var unresolvedFailures: UInt8 = 0
        var unresolvedProbes: UInt8 = 0
        /// Something on this connection was counted (a failure, probe or success).
        var settled = false
        /// A probe was counted: one per connection, however many lines describe it
        /// (`kex_exchange_identification: ...` then `banner exchange: ...`).
        var probed = false
        /// A connection-end line was seen: later end lines of the same connection add nothing.
        var ended = false
    }

    public enum Result: Equatable, Sendable {
        case nothing
        /// The line fits several addresses and its connection names none of them.
        case ambiguous
        case tally(AuthTally)
    }

    /// Connections tracked at most: 80 times sshd's default MaxStartups (100 unauthenticated
    /// connections at once); a connection leaves the table when it logs in or ends, so only
    /// connections still authenticating (or whose end line was never written) stay. Past it one
    /// not touched lately is forgotten (counted in `evicted`). Pids come from log lines any local
    /// user can write, so the table is bounded and keyed-hashed; at this size it stays in cache.
    public static let defaultCapacity = 8_192
    public let capacity: Int
    private(set) var connections: BoundedTable<Int32, Connection>
    public var evicted: Int { connections.evicted }

    public init(capacity: Int = AuthAttemptCounter.defaultCapacity) {
        self.capacity = capacity
        self.connections = BoundedTable(capacity: capacity)
    }

    public var trackedConnections: Int { connections.count }

    /// Failures the event adds (0 or more); a convenience for tests.
    public mutating func failures(for e: AuthEvent) -> Int {
        if case .tally(let t) = take(e) { return t.failures }
        return 0
    }

    public mutating func take(_ e: AuthEvent) -> Result {
        if e.kind == .serviceFailure { // each line is one attempt of its own service
            guard let s = e.source else { return e.isAmbiguous ? .ambiguous : .nothing }
            return .tally(Self.tally(e, s, failures: 1))
        }
        guard let pid = e.pid, pid != 0 else { return pidless(e) }
        // One table lookup: the closure resolves the line's address against the connection's.
        var result = Result.nothing
        var over = false
        connections.update(pid, default: { Connection(key: e.source?.key) }) { c in
            var source = e.source
            if e.isAmbiguous {
                guard let k = c.key, let match = e.candidates.first(where: { $0.key == k }) else { result = .ambiguous; return }
                source = match
            }
            if source == nil, let k = c.key {
                // A host-name connection's text is not kept: its lines name it themselves.
                source = AuthSourceAddress(key: k, hostName: k.kind == .name ? "?" : nil)
            }
            guard let source else {
                // No address yet: wait on the connection for one.
                switch e.kind {
                case .probe: c.unresolvedProbes = c.unresolvedProbes &+ (c.unresolvedProbes < 255 ? 1 : 0)
                case .refusedUser, .connectionEnd: c.unresolvedFailures = c.unresolvedFailures &+ (c.unresolvedFailures < 255 ? 1 : 0)
                default: break
                }
                return
            }
            // A reused pid: a new connection (another address, or a line sshd writes once per
            // connection seen again).
            if let k = c.key, k != source.key || e.once & c.once != 0 { c = Connection(key: source.key) }
            if c.key == nil { c.key = source.key }
            c.once |= e.once
            var out = Counts()
            // What waited for this address.
            out.failures += Int(c.unresolvedFailures)
            if c.unresolvedProbes > 0, !c.probed { out.probes = 1; c.probed = true }
            if c.unresolvedFailures > 0 || c.unresolvedProbes > 0 { c.settled = true }
            c.unresolvedFailures = 0
            c.unresolvedProbes = 0
            over = Self.apply(e, to: &c, &out)
            if out.failures > 0 || out.probes > 0 || out.accepted { // only then is a tally made
                var t = Self.tally(e, source, failures: out.failures)
                t.probes = out.probes
                t.accepted = out.accepted
                result = .tally(t)
            }
        }
        if over { connections.remove(pid) }
        return result
    }

    /// What one line adds, before any tally (and its strings) is made.
    struct Counts {
        var failures = 0
        var probes = 0
        var accepted = false
    }

    /// Applies one addressed event to its connection; true when the connection is over.
    static func apply(_ e: AuthEvent, to c: inout Connection, _ out: inout Counts) -> Bool {
        switch e.kind {
        case .addressSeen:
            // `Failed publickey` for an existing account: an authentication attempt, so the
            // close that follows is not a scanner's.
            if e.method != nil { c.settled = true }
            return false
        case .serviceFailure:
            return false
        case .refusedUser:
            if c.credit == 0 && !c.ended { out.failures += 1; c.credit = 1 }
            c.settled = true
            return false
        case .attemptRefused:
            if c.pamPending > 0 { c.pamPending -= 1 } // pam_unix's line for this same attempt
            if c.credit > 0 { c.credit -= 1 } else { out.failures += 1 }
            c.echo = true
            c.settled = true
            return false
        case .violation:
            out.failures += 1
            c.settled = true
            return false
        case .pamFailure:
            let now = userHash(e.user)
            if c.pamPending > 0, c.pamUser != 0, now != 0, c.pamUser != now {
                out.failures += settle(&c) // a failure for another account: the held one was real
            }
            c.pamPending = c.pamPending < 255 ? c.pamPending + 1 : 255
            if now != 0 { c.pamUser = now }
            return false
        case .failedAttempt:
            if c.pamPending > 0 { c.pamPending -= 1 }
            if c.echo { c.echo = false } else if c.credit > 0 { c.credit -= 1 } else { out.failures += 1 }
            c.settled = true
            return false
        case .accepted:
            if c.pamPending > 0 {
                let now = userHash(e.user)
                if c.pamUser != 0, now != 0, c.pamUser != now { out.failures += settle(&c) }
                c.pamPending = 0
            }
            out.accepted = true
            return true
        case .connectionEnd:
            var n = settle(&c)
            if n == 0 && !c.settled && !c.ended { n = 1 }
            out.failures += n
            c.settled = true
            c.ended = true
            // `Connection closed by invalid user` is a connection's last line; after the others
            // (`maximum ... exceeded`, `Disconnecting ...`) another end line may follow.
            return e.once == AuthEvent.onceClosed
        case .disconnected:
            out.failures += settle(&c)
            return true
        case .preauthClose:
            out.failures += settle(&c)
            if !c.settled && out.failures == 0 && !c.probed { out.probes = 1 }
            return true
        case .probe:
            if !c.probed { out.probes = 1; c.probed = true }
            c.settled = true
            return false
        }
    }

    /// Held PAM failures become failures, less the credit an announcement left.
    static func settle(_ c: inout Connection) -> Int {
        let n = Int(c.pamPending)
        c.pamPending = 0
        let used = min(n, Int(c.credit))
        c.credit -= UInt8(used)
        if n > used { c.settled = true }
        return n - used
    }

    /// A keyed hash of an account name (0: none), so the table holds no strings.
    static func userHash(_ user: String?) -> UInt64 {
        guard let user else { return 0 }
        return KeyedHash.of(user) | 1
    }

    /// A line without a pid: nothing ties it to other lines, so each failure line is one.
    func pidless(_ e: AuthEvent) -> Result {
        guard let s = e.source else { return e.isAmbiguous ? .ambiguous : .nothing }
        switch e.kind {
        case .failedAttempt, .refusedUser, .pamFailure, .attemptRefused, .violation, .connectionEnd: return .tally(Self.tally(e, s, failures: 1))
        case .probe: var t = Self.tally(e, s, failures: 0); t.probes = 1; return .tally(t)
        case .accepted: var t = Self.tally(e, s, failures: 0); t.accepted = true; return .tally(t)
        default: return .nothing
        }
    }

    static func tally(_ e: AuthEvent, _ s: AuthSourceAddress, failures: Int) -> AuthTally {
        var t = AuthTally(source: s)
        t.failures = failures
        t.user = e.user
        t.invalidUser = e.invalidUser
        t.method = e.method
        t.service = e.service
        return t
    }
}
