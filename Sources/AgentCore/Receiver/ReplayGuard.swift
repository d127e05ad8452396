/// Remembers signatures seen within the skew window so an exact replay of a request (same
/// timestamp, same signature) is refused with 409. Entries expire with the window, and the
/// number kept is capped so a flood cannot exhaust memory (oldest forgotten first).
public struct ReplayGuard: Sendable {
    public let windowSeconds: Int64
    public let capacity: Int
    private var expiry: [String: Int64] = [:]
    private var order: [(String, Int64)] = []
    private var head = 0

    public init(windowSeconds: Int64, capacity: Int = 1_000_000) {
        self.windowSeconds = windowSeconds
        self.capacity = capacity
    }

    public var count: Int { expiry.count }

    /// Records the signature; returns false when it was already seen within the window.
    public mutating func admit(signature: String, timestamp: Int64, now: Int64) -> Bool {
        prune(now: now)
        if let until = expiry[signature], until >= now { return false }
        // The signature can be replayed while its timestamp is within the skew window.
        let until = timestamp + windowSeconds
        expiry[signature] = until
        order.append((signature, until))
        while expiry.count > capacity, head < order.count {
            let (sig, exp) = order[head]
            if expiry[sig] == exp { expiry[sig] = nil }
            head += 1
        }
        return true
    }

    private mutating func prune(now: Int64) {
        while head < order.count, order[head].1 < now {
            let (sig, exp) = order[head]
            if expiry[sig] == exp { expiry[sig] = nil }
            head += 1
        }
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
