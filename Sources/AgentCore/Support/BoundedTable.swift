/// A map with a hard capacity for keys that outside input chooses (addresses, host names, pids
/// read from logs any local user can write to).
///
/// - Lookups go through Swift's `Dictionary`, whose `Hasher` is SipHash seeded at random per
///   process: an attacker cannot precompute keys that collide, so every operation is O(1)
///   expected whatever the keys.
/// - Entries live in a slab of at most `capacity` slots. Inserting into a full table evicts one
///   entry chosen by a CLOCK sweep over at most `sweepLimit` slots: the lowest rank the caller
///   gives (for addresses: failures in the window, so a flood of one-failure addresses pushes out
///   its own kind, never an address that is attacking in earnest), then one not touched since the
///   hand last passed; so one insert costs a bounded amount of work however the table is filled.
///   Nothing is ever rebuilt in one go.
/// - Removing an entry frees its slot for reuse; nothing grows with the number of keys ever seen.
///
/// Inlinable: its users (the detectors) live in other modules, and an unspecialised generic
/// table costs them about two thirds of their speed.
public struct BoundedTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var key: Key
        @usableFromInline var value: Value
        @usableFromInline var referenced: Bool

        @inlinable
        init(key: Key, value: Value, referenced: Bool) {
            self.key = key
            self.value = value
            self.referenced = referenced
        }
    }

    /// Slots a sweep passes over before it evicts whatever is under the hand.
    @inlinable public static var sweepLimit: Int { 32 }

    public let capacity: Int
    @usableFromInline var index: [Key: Int32] = [:]
    @usableFromInline var slots: [Slot?] = []
    @usableFromInline var free: [Int32] = []
    @usableFromInline var hand = 0
    /// Entries evicted to make room, since the start.
    @inlinable public var evicted: Int { evictedCount }
    @usableFromInline var evictedCount = 0
    /// The key the last `update` evicted to make room (nil when it evicted none).
    @inlinable public var lastEvicted: Key? { lastEvictedKey }
    @usableFromInline var lastEvictedKey: Key?

    @inlinable
    public init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "capacity out of range")
        self.capacity = capacity
    }

    @inlinable public var count: Int { index.count }
    /// Slots allocated: at most `capacity`, and no more than the most entries held at once.
    var slotCount: Int { slots.count }

    @inlinable
    public subscript(key: Key) -> Value? {
        index[key].map { slots[Int($0)]!.value }
    }

    /// Runs `body` on the value for `key`, inserting `make()` first when there is none (and
    /// evicting one entry if the table is full: of the `sweepLimit` entries under the hand, the
    /// one with the lowest `rank`, an untouched one before a touched one of the same rank).
    @inlinable
    public mutating func update<R>(_ key: Key, default make: () -> Value, rank: (Value) -> Int = { _ in 0 },
                                   _ body: (inout Value) -> R) -> R {
        if let i = index[key] {
            slots[Int(i)]!.referenced = true
            return body(&slots[Int(i)]!.value)
        }
        lastEvictedKey = nil
        if index.count >= capacity { evictOne(rank) }
        var value = make()
        let result = body(&value)
        let slot: Int
        if let f = free.popLast() {
            slot = Int(f)
            slots[slot] = Slot(key: key, value: value, referenced: false)
        } else {
            // Growing past half the capacity: reserve the rest once, so the slab never ends
            // up with up to twice the slots it may ever use.
            if slots.count == slots.capacity, slots.count >= capacity / 2 { slots.reserveCapacity(capacity) }
            slot = slots.count
            slots.append(Slot(key: key, value: value, referenced: false))
        }
        index[key] = Int32(slot)
        return result
    }

    /// Removes `key`; returns its value.
    @inlinable @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let i = index.removeValue(forKey: key) else { return nil }
        let value = slots[Int(i)]!.value
        slots[Int(i)] = nil
        free.append(i)
        return value
    }

    /// Visits every entry without changing any. O(count + free slots).
    @inlinable
    public func forEach(_ visit: (Key, Value) -> Void) {
        for case let s? in slots { visit(s.key, s.value) }
    }

    /// Visits every entry; removes those for which `visit` returns true. O(count + free slots).
    @inlinable
    public mutating func removeAll(where visit: (Key, Value) -> Bool) {
        for i in slots.indices {
            guard let s = slots[i], visit(s.key, s.value) else { continue }
            index[s.key] = nil
            slots[i] = nil
            free.append(Int32(i))
        }
    }

    /// Evicts one entry from the `sweepLimit` slots under the hand: the lowest rank, and among
    /// equal ranks one not touched since the hand last passed (second chance; reference bits are
    /// cleared on the way). An untouched entry of rank 0 ends the sweep at once.
    @inlinable
    mutating func evictOne(_ rank: (Value) -> Int) {
        var best: (slot: Int, score: Int)?
        for _ in 0..<min(Self.sweepLimit, slots.count) {
            let i = hand
            hand = hand + 1 == slots.count ? 0 : hand + 1
            guard let s = slots[i] else { continue } // a full table has no free slot; kept for safety
            let score = max(0, rank(s.value)).multipliedReportingOverflow(by: 2).partialValue | (s.referenced ? 1 : 0)
            if s.referenced { slots[i]!.referenced = false }
            if best == nil || score < best!.score { best = (i, score) }
            if score == 0 { break }
        }
        guard let i = best?.slot, let s = slots[i] else { return }
        lastEvictedKey = s.key
        index[s.key] = nil
        slots[i] = nil
        free.append(Int32(i))
        evictedCount += 1
    }
}
