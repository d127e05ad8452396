import AgentCore

/// How many distinct items each key saw in a sliding window: distinct invalid user names per
/// source address (user enumeration), distinct source addresses per account (distributed brute
/// force). Keys and items both come from outside, so everything is bounded:
///
/// - at most `maxKeys` keys, in a keyed-hash `BoundedTable` (a full table evicts, of the entries
///   a bounded sweep looks at, one below half the limit, else the one with the fewest items;
///   evictions are counted);
/// - per key at most `limit` items (the alert threshold, at most `maxLimit`: past it a new item
///   replaces the one seen longest ago, so the count stays at the threshold while the key keeps
///   it up), each a 32-bit keyed hash and the second it was last seen, inline: an entry is 265
///   plain bytes (no allocation, no reference counting, however the table churns);
/// - up to `sampleCount` sample texts per key, kept only from the moment it reaches the limit.
struct DistinctWindow<Key: TableKey>: Sendable {
    static var maxLimit: Int { 32 }
    static var sampleCount: Int { 5 }

    struct Entry: Sendable {
        /// `hash << 32 | second last seen`, `count` of them in use.
        var items = InlineArray<32, UInt64>(repeating: 0)
        var count: UInt8 = 0
        /// Samples taken for this key (at most `sampleCount`): past it no sample lookup is made.
        var sampled: UInt8 = 0
    }

    let limit: Int
    let windowSeconds: Int64
    private(set) var table: BoundedTable<Key, Entry>
    /// Names (or addresses) of the keys at the limit, for the alert's detail.
    private(set) var samples: [Key: [String]] = [:]
    var evicted: Int { table.evicted }
    var count: Int { table.count }

    init(limit: Int, windowSeconds: Int, maxKeys: Int) {
        self.limit = min(max(1, limit), Self.maxLimit)
        self.windowSeconds = Int64(max(1, windowSeconds))
        self.table = BoundedTable(capacity: maxKeys)
    }

    /// `item` (a keyed hash) seen for `key` at `now`; `sample` is its text for the alert.
    mutating func record(_ key: Key, item: UInt64, sample: @autoclosure () -> String, at now: Int64) {
        let limit = limit
        let hash = item >> 32, seen = UInt64(UInt32(truncatingIfNeeded: max(0, now)))
        var reached = false
        var goneWithSamples: Key?
        // Keys below half the limit are all equally expendable (rank 0 ends an eviction sweep at the
        // first untouched one); above it, the fewest items go first.
        table.update(key, default: { Entry() }, rank: { Int($0.count) * 2 < limit ? 0 : Int($0.count) },
                     evicting: { k, e in if e.sampled > 0 { goneWithSamples = k } }) { e in
            // One pass: the item itself, or the slot seen longest ago (an expired item is always
            // among the oldest, so nothing is pruned here; `offenders` counts only the window).
            var oldest = 0
            for i in 0..<Int(e.count) {
                if e.items[i] >> 32 == hash { e.items[i] = hash << 32 | seen; return }
                if e.items[i] & 0xFFFF_FFFF < e.items[oldest] & 0xFFFF_FFFF { oldest = i }
            }
            if Int(e.count) < limit {
                e.items[Int(e.count)] = hash << 32 | seen
                e.count += 1
            } else {
                e.items[oldest] = hash << 32 | seen
            }
            if Int(e.count) >= limit, Int(e.sampled) < Self.sampleCount { reached = true; e.sampled += 1 }
        }
        if let gone = goneWithSamples { samples[gone] = nil }
        if reached { samples[key, default: []].append(AlertText.bounded(sample())) }
    }

    /// Keys with at least `limit` distinct items in the window ending at `now`.
    func offenders(at now: Int64) -> [(key: Key, distinct: Int, samples: [String])] {
        let cutoff = UInt64(UInt32(truncatingIfNeeded: max(0, now - windowSeconds)))
        let limit = limit
        var out: [(key: Key, distinct: Int, samples: [String])] = []
        table.forEach { key, e in
            var n = 0
            for i in 0..<Int(e.count) where e.items[i] & 0xFFFF_FFFF > cutoff { n += 1 }
            if n >= limit { out.append((key, n, samples[key] ?? [])) }
        }
        return out
    }

    /// Forgets keys with nothing left in the window.
    mutating func forgetQuiet(at now: Int64) {
        let cutoff = UInt64(UInt32(truncatingIfNeeded: max(0, now - windowSeconds)))
        var gone: [Key] = []
        table.removeAll { key, e in
            for i in 0..<Int(e.count) where e.items[i] & 0xFFFF_FFFF > cutoff { return false }
            gone.append(key)
            return true
        }
        for key in gone { samples[key] = nil }
    }
}
