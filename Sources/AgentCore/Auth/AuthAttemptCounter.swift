/// Turns parsed auth events into failed attempts, counting each attempt once although sshd and
/// PAM log it several times. One sshd process (pid) is one connection: an `Invalid user` or
/// `pam_unix ... authentication failure` line announces an attempt, and the `Failed ...` line
/// that follows on the same connection is the same attempt; further `Failed` lines are new
/// attempts; a connection-end line counts only when nothing on that connection did.
public struct AuthAttemptCounter: Sendable {
    struct Connection: Sendable {
        var address: AddressKey
        /// An announced attempt whose `Failed ...` line has not arrived yet.
        var pending: Bool
        var counted: Bool
    }

    /// Connections tracked at most; past it one is forgotten (counted in `evicted`). Pids come
    /// from log lines any local user can write, so the table is bounded and keyed-hashed, and a
    /// finished connection leaves nothing behind.
    public let capacity: Int
    private(set) var connections: BoundedTable<Int32, Connection>
    public var evicted: Int { connections.evicted }

    public init(capacity: Int = 65_536) {
        self.capacity = capacity
        self.connections = BoundedTable(capacity: capacity)
    }

    /// 1 when the event is a new failed attempt, else 0. One table lookup per line.
    public mutating func failures(for e: AuthEvent) -> Int {
        guard let pid = e.pid, pid != 0 else {
            return e.kind == .accepted || e.kind == .disconnected ? 0 : 1 // nothing ties it to other lines
        }
        switch e.kind {
        case .connectionEnd:
            let c = connections.remove(pid)
            return c.map { $0.address == e.key && $0.counted ? 0 : 1 } ?? 1
        case .accepted, .disconnected:
            connections.remove(pid)
            return 0
        case .refusedUser, .pamFailure, .failedAttempt:
            return connections.update(pid, default: { Connection(address: e.key, pending: false, counted: false) }) { c in
                // A pid reused by a connection from another address is a new connection.
                if c.address != e.key { c = Connection(address: e.key, pending: false, counted: false) }
                if e.kind == .failedAttempt {
                    if c.pending { c.pending = false; return 0 }
                    c.counted = true
                    return 1
                }
                if c.pending { return 0 }
                c.pending = true
                c.counted = true
                return 1
            }
        }
    }

    public var trackedConnections: Int { connections.count }
}
