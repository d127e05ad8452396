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

    /// Connections tracked at most; past it the oldest is forgotten (counted in `evicted`).
    public let capacity: Int
    private var connections = PidTable()
    private var order: [Int32] = []
    private var orderHead = 0
    public private(set) var evicted = 0

    public init(capacity: Int = 65_536) { self.capacity = capacity }

    /// 1 when the event is a new failed attempt, else 0. One table lookup per line.
    public mutating func failures(for e: AuthEvent) -> Int {
        guard let pid = e.pid, pid != 0 else {
            return e.kind == .accepted || e.kind == .disconnected ? 0 : 1 // nothing ties it to other lines
        }
        let (i, found) = connections.find(pid)
        var c = found && connections.values[i].address == e.key
            ? connections.values[i] : Connection(address: e.key, pending: false, counted: false)
        var result = 0
        switch e.kind {
        case .refusedUser, .pamFailure:
            if !c.pending { c.pending = true; c.counted = true; result = 1 }
        case .failedAttempt:
            if c.pending { c.pending = false } else { c.counted = true; result = 1 }
        case .connectionEnd:
            result = c.counted ? 0 : 1
            if found { connections.remove(at: i) }
            return result
        case .accepted, .disconnected:
            if found { connections.remove(at: i) }
            return 0
        }
        if found {
            connections.values[i] = c
        } else {
            connections.insert(pid, c, at: i)
            remember(pid)
        }
        return result
    }

    public var trackedConnections: Int { connections.count }

    private mutating func remember(_ pid: Int32) {
        order.append(pid)
        while connections.count > capacity, orderHead < order.count {
            let old = order[orderHead]
            orderHead += 1
            let (i, found) = connections.find(old)
            if found { connections.remove(at: i); evicted += 1 }
        }
        if orderHead > 4096, orderHead * 2 > order.count { order.removeFirst(orderHead); orderHead = 0 }
    }
}

/// pid → connection, open addressing with linear probing and backward-shift deletion (pid 0
/// marks an empty slot; sshd never has pid 0). Grows at 50 % load.
struct PidTable: Sendable {
    private(set) var keys: [Int32] = []
    var values: [AuthAttemptCounter.Connection] = []
    private(set) var count = 0
    private var mask = -1

    @inline(__always)
    private func home(_ pid: Int32) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: pid)) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The slot holding `pid`, or the empty slot where it would go.
    func find(_ pid: Int32) -> (Int, Bool) {
        guard count > 0 || !keys.isEmpty else { return (-1, false) }
        var i = home(pid)
        while keys[i] != 0 {
            if keys[i] == pid { return (i, true) }
            i = (i + 1) & mask
        }
        return (i, false)
    }

    mutating func insert(_ pid: Int32, _ c: AuthAttemptCounter.Connection, at slot: Int) {
        if (count + 1) * 2 > keys.count {
            grow()
            let (i, _) = find(pid)
            keys[i] = pid; values[i] = c
        } else {
            keys[slot] = pid; values[slot] = c
        }
        count += 1
    }

    mutating func remove(at slot: Int) {
        var i = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            if keys[j] == 0 { break }
            let h = home(keys[j])
            // Leave keys[j] where it is when its home lies cyclically in (i, j].
            if i <= j ? (i < h && h <= j) : (i < h || h <= j) { continue }
            keys[i] = keys[j]
            values[i] = values[j]
            i = j
        }
        keys[i] = 0
        count -= 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let size = max(64, keys.count * 2)
        keys = [Int32](repeating: 0, count: size)
        values = [AuthAttemptCounter.Connection](repeating: .init(address: .ipv4(0), pending: false, counted: false), count: size)
        mask = size - 1
        for k in 0..<oldKeys.count where oldKeys[k] != 0 {
            let (i, _) = find(oldKeys[k])
            keys[i] = oldKeys[k]
            values[i] = oldValues[k]
        }
    }
}
