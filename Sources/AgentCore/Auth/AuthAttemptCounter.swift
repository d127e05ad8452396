/// Turns parsed auth events into failed attempts, counting each attempt once although sshd and
/// PAM log it several times. One sshd process (pid) is one connection: an `Invalid user` or
/// `pam_unix ... authentication failure` line announces an attempt, and the `Failed ...` line
/// that follows on the same connection is the same attempt; further `Failed` lines are new
/// attempts; a connection-end line counts only when nothing on that connection did.
public struct AuthAttemptCounter: Sendable {
    struct Connection {
        var address: String
        /// An announced attempt whose `Failed ...` line has not arrived yet.
        var pending: Bool
        var counted: Bool
    }

    /// Connections tracked at most; past it the oldest is forgotten (counted in `evicted`).
    public let capacity: Int
    private var connections: [Int32: Connection] = [:]
    private var order: [Int32] = []
    private var orderHead = 0
    public private(set) var evicted = 0

    public init(capacity: Int = 65_536) { self.capacity = capacity }

    /// 1 when the event is a new failed attempt, else 0.
    public mutating func failures(for e: AuthEvent) -> Int {
        guard let pid = e.pid else {
            return e.kind == .accepted || e.kind == .disconnected ? 0 : 1 // nothing ties it to other lines
        }
        var c = connections[pid].flatMap { $0.address == e.address ? $0 : nil } ?? Connection(address: e.address, pending: false, counted: false)
        let isNew = connections[pid] == nil
        var result = 0
        switch e.kind {
        case .refusedUser, .pamFailure:
            if !c.pending { c.pending = true; c.counted = true; result = 1 }
        case .failedAttempt:
            if c.pending { c.pending = false } else { c.counted = true; result = 1 }
        case .connectionEnd:
            result = c.counted ? 0 : 1
            forget(pid)
            return result
        case .accepted, .disconnected:
            forget(pid)
            return 0
        }
        connections[pid] = c
        if isNew { remember(pid) }
        return result
    }

    public var trackedConnections: Int { connections.count }

    private mutating func remember(_ pid: Int32) {
        order.append(pid)
        while connections.count > capacity, orderHead < order.count {
            let old = order[orderHead]
            orderHead += 1
            if connections.removeValue(forKey: old) != nil { evicted += 1 }
        }
        if orderHead > 4096, orderHead * 2 > order.count { order.removeFirst(orderHead); orderHead = 0 }
    }

    private mutating func forget(_ pid: Int32) { connections[pid] = nil }
}
