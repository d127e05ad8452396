import AgentCore

/// How many distinct items each key saw in a sliding window: distinct invalid user names per
/// source address (user enumeration), distinct source addresses per account (distributed brute
/// force). Keys and items both come from outside, so everything is bounded:
///
/// - at most `maxKeys` keys, in a keyed-hash `BoundedTable` (a full table evicts, of the entries
///   a bounded sweep looks at, the one with the fewest items; evictions are counted);
/// - per key at most `limit` items (the alert threshold: past it, a new item replaces the oldest,
///   so the count stays at the threshold while the key keeps it up), each a 64-bit keyed hash and
///   the time it was last seen (16 bytes), plus up to `sampleCount` sample texts for the alert.
///
/// Memory per key: about 100 bytes plus 16 per item, so 260 bytes at the default threshold of 10.
struct DistinctWindow<Key: Hashable & Sendable>: Sendable {
    struct Entry: Sendable {
        var items: [Stamp] = []
        var samples: [String] = []
    }
    struct Stamp: Sendable {
        var item: UInt64
        var seen: Int64
    }

    static var sampleCount: Int { 5 }

    let limit: Int
    let windowSeconds: Int64
    private(set) var table: BoundedTable<Key, Entry>
    var evicted: Int { table.evicted }
    var count: Int { table.count }

    init(limit: Int, windowSeconds: Int, maxKeys: Int) {
        self.limit = max(1, limit)
        self.windowSeconds = Int64(max(1, windowSeconds))
        self.table = BoundedTable(capacity: maxKeys)
    }

    /// `item` (already hashed) seen for `key` at `now`; `sample` is its text for the alert.
    mutating func record(_ key: Key, item: UInt64, sample: @autoclosure () -> String, at now: Int64) {
        let limit = limit, cutoff = now - windowSeconds
        table.update(key, default: { Entry() }, rank: { $0.items.count }) { e in
            e.items.removeAll { $0.seen <= cutoff }
            if let i = e.items.firstIndex(where: { $0.item == item }) {
                e.items[i].seen = now
                return
            }
            if e.items.count >= limit, let oldest = e.items.indices.min(by: { e.items[$0].seen < e.items[$1].seen }) {
                e.items.remove(at: oldest)
            }
            e.items.append(Stamp(item: item, seen: now))
            if e.samples.count < Self.sampleCount { e.samples.append(AlertText.bounded(sample())) }
        }
    }

    /// Keys with at least `limit` distinct items in the window ending at `now`.
    func offenders(at now: Int64) -> [(key: Key, distinct: Int, samples: [String])] {
        let cutoff = now - windowSeconds, limit = limit
        var out: [(key: Key, distinct: Int, samples: [String])] = []
        table.forEach { key, e in
            let n = e.items.reduce(0) { $0 + ($1.seen > cutoff ? 1 : 0) }
            if n >= limit { out.append((key, n, e.samples)) }
        }
        return out
    }

    /// Forgets keys with nothing left in the window.
    mutating func forgetQuiet(at now: Int64) {
        let cutoff = now - windowSeconds
        table.removeAll { _, e in !e.items.contains { $0.seen > cutoff } }
    }
}

/// A keyed 64-bit hash of text (Swift's `Hasher`, seeded per process): items are compared by
/// it, so crafted names cannot be made to collide.
func keyedHash(_ s: String) -> UInt64 {
    var h = Hasher()
    h.combine(s)
    return UInt64(bitPattern: Int64(h.finalize()))
}
