import AgentCore

/// Failed logins per source address in a sliding window; `BRUTE_FORCE:<addr>` while an address
/// has `threshold` or more failures in the last `windowSeconds`.
///
/// The window is 8 buckets of window/8 seconds (so its edge is exact to one bucket), each a
/// saturating UInt8 (up to 255 failures per bucket, 2,040 per window). Sources (IPv4, IPv6 and
/// host names alike, by `AddressKey`) live in one `BoundedTable` of at most `maxTracked` entries
/// (about 110 bytes each measured at the default cap): keyed hashing,
/// so crafted addresses cannot collide; one bounded eviction per new source when full, of the
/// source with the fewest failures in the window among those the sweep looks at (a source whose
/// failures all left the window first), so a flood of millions of one-failure addresses costs
/// the same per line as a quiet day and never pushes out an address attacking in earnest.
/// Evictions are counted in `evicted`.
public struct BruteForceDetector: Detector {
    public static let buckets = 8
    /// Highest count a window can hold (8 buckets of 255).
    public static let maxWindowCount = 8 * 255

    public let threshold: Int
    public let windowSeconds: Int
    public let maxTracked: Int
    private let bucketSeconds: Int
    /// Every source by its key: IP addresses by their bits, host names by a keyed 128-bit hash
    /// of their text (`AddressKey.name`).
    private var sources: BoundedTable<AddressKey, WindowCounts>
    /// The text of the host names among `sources` (IP addresses are printed from their bits).
    private var names: [AddressKey: String] = [:]
    /// The newest bucket seen, for deciding which sources are expendable when full.
    private var latestBucket: UInt32 = 1

    /// The default cap: 3/4 of 2^17, the most a `Dictionary` holds in 2^17 buckets (its load
    /// limit is 3/4), so the index never doubles for the last few entries.
    public static let defaultMaxTracked = 98_304

    public init(threshold: Int, windowSeconds: Int, maxTracked: Int = BruteForceDetector.defaultMaxTracked) {
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.maxTracked = maxTracked
        self.bucketSeconds = max(1, (windowSeconds + Self.buckets - 1) / Self.buckets)
        self.sources = BoundedTable(capacity: maxTracked)
    }

    public var tracked: Int { sources.count }
    public var evicted: Int { sources.evicted }

    /// Records `count` failures from `address` (text: IPv4, IPv6 or a host name) at `now`.
    public mutating func record(address: String, at now: Int64, count: Int = 1) {
        let e = AuthEvent(kind: .failedAttempt, address: address, pid: nil, user: nil)
        record(e.key, hostName: e.hostName, at: now, count: count)
    }

    /// Records `count` failures from a parsed source at `now` (unix seconds). No String is made
    /// for IP addresses.
    public mutating func record(_ key: AddressKey, hostName: String?, at now: Int64, count: Int = 1) {
        guard count > 0 else { return }
        let b = bucket(now)
        latestBucket = max(latestBucket, b)
        let latest = latestBucket
        sources.update(key, default: { WindowCounts(newest: b, counts: 0) },
                       rank: { $0.total(at: latest) }) { $0.add(bucket: b, count: count) }
        if let gone = sources.lastEvicted, gone.kind == .name { names[gone] = nil }
        if key.kind == .name, names[key] == nil { names[key] = hostName ?? "?" }
    }

    /// Addresses at or above the threshold now, sorted.
    public func offenders(at now: Int64) -> [String] {
        let b = bucket(now)
        var out = [String]()
        let threshold = threshold
        sources.forEach { key, w in
            if w.total(at: b) >= threshold { out.append(key.ipText ?? names[key] ?? "?") }
        }
        return out.sorted()
    }

    /// Forgets the sources with no failures left in the window at `now`.
    public mutating func forgetQuiet(at now: Int64) {
        let b = bucket(now)
        latestBucket = max(latestBucket, b)
        var forgotten: [AddressKey] = []
        sources.removeAll { key, w in
            let quiet = w.total(at: b) == 0
            if quiet, key.kind == .name { forgotten.append(key) }
            return quiet
        }
        for key in forgotten { names[key] = nil }
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        for f in batch.authFailures { record(f.key, hostName: f.hostName, at: now, count: f.count) }
    }

    public func findings(at now: Int64) -> Findings {
        Findings(alerts: offenders(at: now).map { Alert(.bruteForce, subject: $0) })
    }

    public mutating func endCycle(at now: Int64) {
        forgetQuiet(at: now)
    }

    private func bucket(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(1, now / Int64(bucketSeconds)))
    }
}

/// One address's window: the newest bucket index and 8 one-byte counts (bucket i in byte i).
struct WindowCounts: Sendable, Equatable {
    var newest: UInt32
    var counts: UInt64

    /// Moves the window to bucket `b` and adds `count` to it (saturating at 255).
    @inline(__always)
    mutating func add(bucket b: UInt32, count: Int) {
        if b > newest {
            let steps = min(UInt32(BruteForceDetector.buckets), b - newest)
            for k in 1...steps { counts &= ~(0xFF << (UInt64((newest &+ k) % 8) * 8)) }
            newest = b
        }
        guard b + 7 >= newest else { return } // older than the window
        let shift = UInt64(b % 8) * 8
        let now = (counts >> shift) & 0xFF
        counts = counts & ~(0xFF << shift) | (min(now + UInt64(count), 255) << shift)
    }

    /// Failures in the window ending at bucket `b`.
    @inline(__always)
    func total(at b: UInt32) -> Int {
        guard b < newest + 8 else { return 0 }
        var c = counts
        if b > newest { for k in 1...(b - newest) { c &= ~(0xFF << (UInt64((newest &+ k) % 8) * 8)) } }
        var sum = 0
        for k in 0..<8 { sum += Int((c >> (UInt64(k) * 8)) & 0xFF) }
        return sum
    }
}
