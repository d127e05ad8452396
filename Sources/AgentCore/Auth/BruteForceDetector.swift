/// Failed logins per source address in a sliding window; `BRUTE_FORCE:<addr>` while an address
/// has `threshold` or more failures in the last `windowSeconds`.
///
/// Memory is bounded and small: the window is 8 buckets of window/8 seconds (so its edge is exact
/// to one bucket), each a saturating UInt8 (up to 255 failures per bucket, 2,040 per window), kept
/// with the newest bucket's index and the binary address in open-addressing tables: 16 bytes per
/// IPv4 slot, 32 per IPv6 slot, at 37-75 % load. Host names (rare) use a dictionary. At most
/// `maxTracked` addresses are kept; past it the addresses whose failures all left the window go,
/// then the eighth idle longest, counted in `evicted`.
public struct BruteForceDetector: Sendable {
    public static let buckets = 8
    /// Highest count a window can hold (8 buckets of 255).
    public static let maxWindowCount = 8 * 255

    public let threshold: Int
    public let windowSeconds: Int
    public let maxTracked: Int
    private let bucketSeconds: Int
    private var v4 = AddressWindows<UInt32>()
    private var v6 = AddressWindows<IPv6Bits>()
    private var names: [String: WindowCounts] = [:]
    public private(set) var evicted = 0

    public init(threshold: Int, windowSeconds: Int, maxTracked: Int = 100_000) {
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.maxTracked = maxTracked
        self.bucketSeconds = max(1, (windowSeconds + Self.buckets - 1) / Self.buckets)
    }

    public var tracked: Int { v4.count + v6.count + names.count }

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
        if tracked >= maxTracked, !isTracked(key, hostName: hostName) { makeRoom(newestBucket: b) }
        switch key.kind {
        case .ipv4: v4.add(UInt32(truncatingIfNeeded: key.lo), bucket: b, count: count)
        case .ipv6: v6.add(IPv6Bits(hi: key.hi, lo: key.lo), bucket: b, count: count)
        case .name:
            let name = hostName ?? "?"
            var w = names[name] ?? WindowCounts(newest: b, counts: 0)
            w.add(bucket: b, count: count)
            names[name] = w
        }
    }

    /// Addresses at or above the threshold now, sorted; forgets addresses with no failures left in the window.
    public mutating func offenders(at now: Int64) -> [String] {
        let b = bucket(now)
        var out = [String]()
        v4.removeAll { key, w in
            let total = w.total(at: b)
            if total >= threshold { out.append(AddressKey.ipv4(key).ipText!) }
            return total == 0
        }
        v6.removeAll { key, w in
            let total = w.total(at: b)
            if total >= threshold { out.append(AddressKey(kind: .ipv6, hi: key.hi, lo: key.lo).ipText!) }
            return total == 0
        }
        for (name, w) in names {
            let total = w.total(at: b)
            if total == 0 { names[name] = nil } else if total >= threshold { out.append(name) }
        }
        return out.sorted()
    }

    private func bucket(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(1, now / Int64(bucketSeconds)))
    }

    private func isTracked(_ key: AddressKey, hostName: String?) -> Bool {
        switch key.kind {
        case .ipv4: v4.contains(UInt32(truncatingIfNeeded: key.lo))
        case .ipv6: v6.contains(IPv6Bits(hi: key.hi, lo: key.lo))
        case .name: names[hostName ?? "?"] != nil
        }
    }

    /// At capacity: forget addresses whose failures all left the window, then, if still full, the
    /// eighth idle longest. Batching keeps the cost amortised when millions of addresses attack.
    private mutating func makeRoom(newestBucket b: UInt32) {
        let before = tracked
        v4.removeAll { _, w in w.total(at: b) == 0 }
        v6.removeAll { _, w in w.total(at: b) == 0 }
        names = names.filter { $0.value.total(at: b) > 0 }
        if tracked >= maxTracked {
            // The cut-off: the newest-bucket value below which the idlest eighth lies.
            var ages = v4.newestValues() + v6.newestValues() + names.values.map(\.newest)
            ages.sort()
            let cut = ages[min(ages.count - 1, max(1, maxTracked / 8))]
            v4.removeAll { _, w in w.newest < cut }
            v6.removeAll { _, w in w.newest < cut }
            names = names.filter { $0.value.newest >= cut }
            if tracked >= maxTracked { // all equally old: drop an eighth regardless
                var drop = max(1, maxTracked / 8)
                v4.removeAll { _, _ in defer { drop -= 1 }; return drop > 0 }
                v6.removeAll { _, _ in defer { drop -= 1 }; return drop > 0 }
            }
        }
        evicted += before - tracked
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

struct IPv6Bits: Hashable, Sendable {
    var hi: UInt64
    var lo: UInt64
}

protocol WindowKey: Equatable, Sendable {
    var mix: UInt64 { get }
    static var zero: Self { get }
}

extension UInt32: WindowKey {
    @inline(__always) var mix: UInt64 {
        var x = UInt64(self) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x
    }
    static var zero: UInt32 { 0 }
}

extension IPv6Bits: WindowKey {
    @inline(__always) var mix: UInt64 { AddressKey(kind: .ipv6, hi: hi, lo: lo).mix }
    static var zero: IPv6Bits { IPv6Bits(hi: 0, lo: 0) }
}

/// Open addressing with linear probing over parallel arrays (key, newest bucket, counts: 16 bytes
/// a slot for IPv4); a slot is empty when its `newest` is 0 (bucket indexes start at 1). Grows at
/// 75 % load; removal rebuilds.
struct AddressWindows<Key: WindowKey>: Sendable {
    private var keys: [Key] = []
    private var newest: [UInt32] = []
    private var counts: [UInt64] = []
    private(set) var count = 0
    private var mask = 0

    @inline(__always)
    private func slot(of key: Key) -> (index: Int, found: Bool) {
        var i = Int(truncatingIfNeeded: key.mix) & mask
        while newest[i] != 0 {
            if keys[i] == key { return (i, true) }
            i = (i + 1) & mask
        }
        return (i, false)
    }

    func contains(_ key: Key) -> Bool {
        count > 0 && slot(of: key).found
    }

    mutating func add(_ key: Key, bucket b: UInt32, count n: Int) {
        if (count + 1) * 4 > keys.count * 3 { resize(to: max(64, keys.count * 2)) }
        let (i, found) = slot(of: key)
        var w = found ? WindowCounts(newest: newest[i], counts: counts[i]) : WindowCounts(newest: b, counts: 0)
        if !found {
            keys[i] = key
            count += 1
        }
        w.add(bucket: b, count: n)
        newest[i] = w.newest
        counts[i] = w.counts
    }

    private func entries() -> [(Key, WindowCounts)] {
        var all: [(Key, WindowCounts)] = []
        all.reserveCapacity(count)
        for i in 0..<keys.count where newest[i] != 0 { all.append((keys[i], WindowCounts(newest: newest[i], counts: counts[i]))) }
        return all
    }

    /// Removes the entries for which `drop` says so (and visits all of them).
    mutating func removeAll(where drop: (Key, WindowCounts) -> Bool) {
        guard count > 0 else { return }
        let kept = entries().filter { !drop($0.0, $0.1) }
        guard kept.count != count else { return }
        var size = 64
        while kept.count * 4 > size * 3 { size *= 2 }
        rebuild(size: kept.isEmpty ? 0 : size, from: kept)
    }

    func newestValues() -> [UInt32] {
        newest.filter { $0 != 0 }
    }

    private mutating func resize(to size: Int) {
        rebuild(size: size, from: entries())
    }

    private mutating func rebuild(size: Int, from entries: [(Key, WindowCounts)]) {
        keys = [Key](repeating: .zero, count: size)
        newest = [UInt32](repeating: 0, count: size)
        counts = [UInt64](repeating: 0, count: size)
        mask = size - 1
        count = 0
        for (k, w) in entries {
            let (i, _) = slot(of: k)
            keys[i] = k
            newest[i] = w.newest
            counts[i] = w.counts
            count += 1
        }
    }
}
