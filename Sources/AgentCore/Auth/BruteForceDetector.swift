/// Failed logins per source address in a sliding window; `BRUTE_FORCE:<addr>` while an address
/// has `threshold` or more failures in the last `windowSeconds`.
///
/// Memory is bounded: the window is kept as 8 buckets of window/8 seconds per address (so the
/// window's edge is exact to one bucket), and at most `maxTracked` addresses are kept; past it
/// the address idle longest is evicted and counted. Each tracked address costs its key plus
/// 20 bytes of counts (see the auth benchmark for the measured total).
public struct BruteForceDetector: Sendable {
    public static let buckets = 8

    struct Window {
        /// Index (time / bucketSeconds) of the newest bucket.
        var newest: UInt32
        var counts: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)

        mutating func withCounts<R>(_ body: (UnsafeMutableBufferPointer<UInt16>) -> R) -> R {
            withUnsafeMutableBytes(of: &counts) { body($0.bindMemory(to: UInt16.self)) }
        }
    }

    public let threshold: Int
    public let windowSeconds: Int
    public let maxTracked: Int
    private let bucketSeconds: Int
    private var windows: [String: Window] = [:]
    public private(set) var evicted = 0

    public init(threshold: Int, windowSeconds: Int, maxTracked: Int = 100_000) {
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.maxTracked = maxTracked
        self.bucketSeconds = max(1, (windowSeconds + Self.buckets - 1) / Self.buckets)
    }

    public var tracked: Int { windows.count }

    /// Records `count` failures from `address` at `now` (unix seconds).
    public mutating func record(address: String, at now: Int64, count: Int = 1) {
        guard count > 0 else { return }
        let b = UInt32(truncatingIfNeeded: now / Int64(bucketSeconds))
        if windows[address] == nil, windows.count >= maxTracked { makeRoom(newestBucket: b) }
        var w = windows[address] ?? Window(newest: b, counts: (0, 0, 0, 0, 0, 0, 0, 0))
        advance(&w, to: b)
        w.withCounts { c in
            let slot = Int(b % UInt32(Self.buckets))
            c[slot] = UInt16(min(Int(UInt16.max), Int(c[slot]) + count))
        }
        windows[address] = w
    }

    /// Addresses at or above the threshold now, sorted; forgets addresses with no failures left in the window.
    public mutating func offenders(at now: Int64) -> [String] {
        let b = UInt32(truncatingIfNeeded: now / Int64(bucketSeconds))
        var out = [String]()
        var empty = [String]()
        for (addr, var w) in windows {
            advance(&w, to: b)
            let total = w.withCounts { $0.reduce(0) { $0 + Int($1) } }
            if total == 0 { empty.append(addr); continue }
            windows[addr] = w
            if total >= threshold { out.append(addr) }
        }
        for a in empty { windows[a] = nil }
        return out.sorted()
    }

    /// Zeroes the buckets that fell out of the window between `w.newest` and `b`.
    private func advance(_ w: inout Window, to b: UInt32) {
        guard b > w.newest else { return }
        let steps = Int(min(UInt32(Self.buckets), b - w.newest))
        let newest = w.newest
        w.withCounts { c in
            for k in 1...steps { c[Int((newest &+ UInt32(k)) % UInt32(Self.buckets))] = 0 }
        }
        w.newest = b
    }

    /// At capacity: forget addresses whose failures all left the window, then, if still full, the
    /// eighth idle longest. Batching keeps the cost amortised when millions of addresses attack.
    private mutating func makeRoom(newestBucket b: UInt32) {
        let before = windows.count
        windows = windows.filter { b &- $0.value.newest < UInt32(Self.buckets) }
        if windows.count >= maxTracked {
            let drop = max(1, maxTracked / 8)
            for (key, _) in windows.sorted(by: { $0.value.newest < $1.value.newest }).prefix(drop) { windows[key] = nil }
        }
        evicted += before - windows.count
    }
}
