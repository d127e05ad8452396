/// A map with a hard capacity for keys that outside input chooses (addresses, host names, pids
/// read from logs any local user can write to).
///
/// - Keys are hashed once per operation with a hash keyed by a seed drawn at random per table
///   (`TableKey`): an attacker cannot precompute keys that collide, so every operation is O(1)
///   expected whatever the keys.
/// - Entries live in a slab of at most `capacity` slots; an open-addressing index (linear
///   probing, at most half full) maps a key's hash to its slot. Each index bucket is 8 bytes: the
///   hash's low 32 bits (which also give the bucket the probe starts from) and the slot number, so
///   a probe compares keys only on a full 32-bit hash match, and removing an entry (backward shift)
///   or evicting one never hashes a key again.
/// - Inserting into a full table evicts one entry chosen by a sweep over at most `sweepLimit`
///   slots from a random place: the lowest rank the caller gives (for addresses: failures in the
///   window, so a flood of one-failure addresses pushes out its own kind, never an address that is
///   attacking in earnest), then one not touched since a sweep last passed; so one insert costs a
///   bounded amount of work however the table is filled. Random, not a clock hand moving on: a
///   hand that takes the oldest equal entry in turn is first-in first-out, and keys cycling
///   through a table a little too small for them (100,000 attacking addresses and room for
///   98,304) would each be evicted just before they come back, so none would ever build up a
///   count. Drawn from the table's secret seed, so an attacker cannot steer it. The index doubles as the table grows
///   (amortised O(1), at most log2(capacity) times in a process), never once it is full.
/// - Removing an entry frees its slot for reuse; nothing grows with the number of keys ever seen.
///
/// Inlinable: its users (the detectors) live in other modules, and an unspecialised generic
/// table costs them about two thirds of their speed.
public struct BoundedTable<Key: TableKey, Value: Sendable>: Sendable {
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var key: Key
        @usableFromInline var value: Value
        @usableFromInline var hash: UInt32
        @usableFromInline var referenced: Bool
        /// False for a free slot (which keeps its last key and value until it is reused: plain
        /// data in every table here, and bounded by the capacity in any case).
        @usableFromInline var live: Bool

        @inlinable
        init(key: Key, value: Value, hash: UInt32) {
            self.key = key
            self.value = value
            self.hash = hash
            self.referenced = false
            self.live = true
        }
    }

    /// Slots a sweep passes over before it evicts whatever is under the hand.
    @inlinable public static var sweepLimit: Int { 32 }

    public let capacity: Int
    @usableFromInline let seed = TableSeed()
    @usableFromInline var slots: [Slot] = []
    @usableFromInline var free: [Int32] = []
    /// Power-of-two count (or empty); 0 is an empty bucket, else `hash << 32 | (slot + 1)`.
    @usableFromInline var buckets: [UInt64] = []
    @usableFromInline var entries = 0
    @usableFromInline var hand = 0
    /// xorshift state for where a sweep starts (never 0).
    @usableFromInline var draw: UInt64 = 1
    /// Entries evicted to make room, since the start.
    @inlinable public var evicted: Int { evictedCount }
    @usableFromInline var evictedCount = 0

    @inlinable
    public init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "capacity out of range")
        self.capacity = capacity
        draw = seed.a5 | 1
    }

    @inlinable public var count: Int { entries }
    /// Slots allocated: at most `capacity`, and no more than the most entries held at once.
    var slotCount: Int { slots.count }
    /// Index buckets allocated: a power of two, at most twice the largest count held (rounded up).
    var bucketCount: Int { buckets.count }

    @inlinable
    func hash(_ key: Key) -> UInt32 { key.tableHash(seed) }

    /// The bucket and slot holding `key`, or nil.
    @inlinable
    func find(_ key: Key, hash: UInt32) -> (bucket: Int, slot: Int)? {
        if buckets.isEmpty { return nil }
        let mask = buckets.count &- 1
        var b = Int(hash) & mask
        while true {
            let e = buckets[b]
            if e == 0 { return nil }
            if UInt32(truncatingIfNeeded: e >> 32) == hash {
                let s = Int(truncatingIfNeeded: e & 0xFFFF_FFFF) &- 1
                if slots[s].key == key { return (b, s) }
            }
            b = (b &+ 1) & mask
        }
    }

    @inlinable
    public subscript(key: Key) -> Value? {
        find(key, hash: hash(key)).map { slots[$0.slot].value }
    }

    /// Runs `body` on the value for `key`, inserting `make()` first when there is none (and
    /// evicting one entry if the table is full: of the `sweepLimit` entries under the hand, the
    /// one with the lowest `rank`, an untouched one before a touched one of the same rank;
    /// `evicting` sees it before it goes).
    @inlinable
    public mutating func update<R>(_ key: Key, default make: () -> Value, rank: (Value) -> Int = { _ in 0 },
                                   evicting: (Key, Value) -> Void = { _, _ in },
                                   _ body: (inout Value) -> R) -> R {
        let h = hash(key)
        if let (_, s) = find(key, hash: h) {
            slots[s].referenced = true
            return body(&slots[s].value)
        }
        if entries >= capacity { evictOne(rank, evicting) }
        // The new value is made in its slot and changed there (values may be hundreds of bytes).
        let slot: Int
        if let f = free.popLast() {
            slot = Int(f)
            slots[slot] = Slot(key: key, value: make(), hash: h)
        } else {
            // Growing past half the capacity: reserve the rest once, so the slab never ends
            // up with up to twice the slots it may ever use.
            if slots.count == slots.capacity, slots.count >= capacity / 2 { slots.reserveCapacity(capacity) }
            slot = slots.count
            slots.append(Slot(key: key, value: make(), hash: h))
        }
        if (entries &+ 1) &* 2 > buckets.count { grow() }
        place(hash: h, slot: slot)
        entries += 1
        return body(&slots[slot].value)
    }

    /// Removes `key`; returns its value.
    @inlinable @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let (b, s) = find(key, hash: hash(key)) else { return nil }
        let value = slots[s].value
        removeBucket(b)
        release(slot: s)
        return value
    }

    /// Visits every entry without changing any. O(count + free slots).
    @inlinable
    public func forEach(_ visit: (Key, Value) -> Void) {
        for i in slots.indices where slots[i].live { visit(slots[i].key, slots[i].value) }
    }

    /// Visits every entry; removes those for which `visit` returns true. O(count + free slots).
    @inlinable
    public mutating func removeAll(where visit: (Key, Value) -> Bool) {
        for i in slots.indices where slots[i].live && visit(slots[i].key, slots[i].value) {
            removeBucket(bucket(of: i, hash: slots[i].hash))
            release(slot: i)
        }
    }

    /// Evicts one entry from `sweepLimit` slots from a random place: the lowest rank, and among
    /// equal ranks one not touched since a sweep last passed (second chance; reference bits are
    /// cleared on the way). An untouched entry of rank 0 ends the sweep at once. Every slot can be
    /// the victim (a hand left where the sweep ended would only ever evict every
    /// `sweepLimit`-th slot among equals).
    @inlinable
    mutating func evictOne(_ rank: (Value) -> Int, _ evicting: (Key, Value) -> Void) {
        var best = -1
        var bestScore = Int.max
        for _ in 0..<min(Self.sweepLimit, slots.count) {
            let i = hand
            hand = hand + 1 == slots.count ? 0 : hand + 1
            guard slots[i].live else { continue } // a full table has no free slot; kept for safety
            let referenced = slots[i].referenced
            let score = max(0, rank(slots[i].value)).multipliedReportingOverflow(by: 2).partialValue | (referenced ? 1 : 0)
            if referenced { slots[i].referenced = false }
            if score < bestScore { best = i; bestScore = score }
            if score == 0 { break }
        }
        draw ^= draw >> 12
        draw ^= draw << 25
        draw ^= draw >> 27
        hand = Int((draw &* 2_685_821_657_736_338_717) >> 33) % slots.count
        guard best >= 0 else { return }
        evicting(slots[best].key, slots[best].value)
        removeBucket(bucket(of: best, hash: slots[best].hash))
        release(slot: best)
        evictedCount += 1
    }

    // MARK: index

    @inlinable
    mutating func release(slot s: Int) {
        slots[s].live = false
        free.append(Int32(truncatingIfNeeded: s))
        entries -= 1
    }

    /// Puts `slot` in the first empty bucket of its probe sequence.
    @inlinable
    mutating func place(hash: UInt32, slot: Int) {
        buckets[firstEmpty(from: hash)] = UInt64(hash) << 32 | UInt64(slot &+ 1)
    }

    /// The first empty bucket from `hash`'s home bucket on (the index is never full).
    @inlinable
    func firstEmpty(from hash: UInt32) -> Int {
        let mask = buckets.count &- 1
        var b = Int(hash) & mask
        while buckets[b] != 0 { b = (b &+ 1) & mask }
        return b
    }

    /// The bucket that points at `slot` (which is in the table).
    @inlinable
    func bucket(of slot: Int, hash: UInt32) -> Int {
        let mask = buckets.count &- 1
        let entry = UInt64(hash) << 32 | UInt64(slot &+ 1)
        var b = Int(hash) & mask
        while buckets[b] != entry { b = (b &+ 1) & mask }
        return b
    }

    /// Empties bucket `hole` and shifts back the entries after it whose probe sequence passes
    /// through it, so every entry stays reachable from its home bucket without tombstones.
    @inlinable
    mutating func removeBucket(_ removed: Int) {
        let mask = buckets.count &- 1
        var hole = removed
        var b = (removed &+ 1) & mask
        while buckets[b] != 0 {
            let home = Int(truncatingIfNeeded: buckets[b] >> 32) & mask
            // The entry may move to the hole when the hole lies between its home and b.
            if (b &- home) & mask >= (b &- hole) & mask {
                buckets[hole] = buckets[b]
                hole = b
            }
            b = (b &+ 1) & mask
        }
        buckets[hole] = 0
    }

    /// Doubles the index (from 16 buckets) and re-places every entry by its stored hash.
    @usableFromInline
    mutating func grow() {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: max(16, old.count * 2))
        for e in old where e != 0 { buckets[firstEmpty(from: UInt32(truncatingIfNeeded: e >> 32))] = e }
    }
}
