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
    public var method: String?
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
    struct Connection: Sendable {
        var source: AuthSourceAddress?
        /// The account of the held PAM failures (nil: not named).
        var pamUser: String?
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

    /// Connections tracked at most (sshd's MaxStartups keeps far fewer unauthenticated ones
    /// open); past it one is forgotten (counted in `evicted`), ended ones first. Pids come from
    /// log lines any local user can write, so the table is bounded and keyed-hashed.
    public let capacity: Int
    private(set) var connections: BoundedTable<Int32, Connection>
    public var evicted: Int { connections.evicted }

    public init(capacity: Int = 16_384) {
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
            return .tally(tally(e, s, failures: 1))
        }
        guard let pid = e.pid, pid != 0 else { return pidless(e) }
        var src = e.source
        let known = connections[pid]?.source
        if e.isAmbiguous {
            guard let k = known, e.candidates.contains(where: { $0.key == k.key }) else { return .ambiguous }
            src = k
        }
        guard let source = src ?? known else {
            // No address yet: wait on the connection for one.
            guard e.kind == .refusedUser || e.kind == .connectionEnd || e.kind == .probe else { return .nothing }
            connections.update(pid, default: { Connection() }, rank: Self.rank) { c in
                if e.kind == .probe { c.unresolvedProbes &+= c.unresolvedProbes < 255 ? 1 : 0 } else { c.unresolvedFailures &+= c.unresolvedFailures < 255 ? 1 : 0 }
            }
            return .nothing
        }
        var out = tally(e, source, failures: 0)
        let remove = connections.update(pid, default: { Connection(source: source) }, rank: Self.rank) { c -> Bool in
            // A reused pid: a new connection (another address, or a line sshd writes once per
            // connection seen again).
            if let s = c.source, s.key != source.key || e.once & c.once != 0 { c = Connection(source: source) }
            c.once |= e.once
            if c.source == nil { c.source = source }
            // What waited for this address.
            out.failures += Int(c.unresolvedFailures)
            if c.unresolvedProbes > 0, !c.probed { out.probes = 1; c.probed = true }
            if c.unresolvedFailures > 0 || c.unresolvedProbes > 0 { c.settled = true }
            c.unresolvedFailures = 0
            c.unresolvedProbes = 0
            let held = c.pamUser
            let over = Self.apply(e, to: &c, &out)
            if out.failures > 0, out.user == nil { out.user = held } // a settled PAM failure names its account
            return over
        }
        if remove { connections.remove(pid) }
        if out.failures == 0 && out.probes == 0 && !out.accepted { return .nothing }
        return .tally(out)
    }

    /// Applies one addressed event to its connection; true when the connection is over.
    static func apply(_ e: AuthEvent, to c: inout Connection, _ out: inout AuthTally) -> Bool {
        switch e.kind {
        case .addressSeen, .serviceFailure:
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
            if c.pamPending > 0, let held = c.pamUser, let now = e.user, held != now {
                out.failures += settle(&c) // a failure for another account: the held one was real
            }
            c.pamPending = c.pamPending < 255 ? c.pamPending + 1 : 255
            if let u = e.user { c.pamUser = u }
            return false
        case .failedAttempt:
            if c.pamPending > 0 { c.pamPending -= 1 }
            if c.echo { c.echo = false } else if c.credit > 0 { c.credit -= 1 } else { out.failures += 1 }
            c.settled = true
            return false
        case .accepted:
            if c.pamPending > 0 {
                if let held = c.pamUser, let now = e.user, held != now { out.failures += settle(&c) }
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

    /// Ended connections are the first to go when the table is full.
    static func rank(_ c: Connection) -> Int { c.ended ? 0 : 1 }

    /// A line without a pid: nothing ties it to other lines, so each failure line is one.
    func pidless(_ e: AuthEvent) -> Result {
        guard let s = e.source else { return e.isAmbiguous ? .ambiguous : .nothing }
        switch e.kind {
        case .failedAttempt, .refusedUser, .pamFailure, .attemptRefused, .violation, .connectionEnd: return .tally(tally(e, s, failures: 1))
        case .probe: var t = tally(e, s, failures: 0); t.probes = 1; return .tally(t)
        case .accepted: var t = tally(e, s, failures: 0); t.accepted = true; return .tally(t)
        default: return .nothing
        }
    }

    func tally(_ e: AuthEvent, _ s: AuthSourceAddress, failures: Int) -> AuthTally {
        var t = AuthTally(source: s)
        t.failures = failures
        t.user = e.user
        t.invalidUser = e.invalidUser
        t.method = e.method
        t.service = e.service
        return t
    }
}
