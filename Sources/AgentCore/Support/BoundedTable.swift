/// A map with a hard capacity for keys that outside input chooses (addresses, host names, pids
/// read from logs any local user can write to).
///
/// - Lookups go through Swift's `Dictionary`, whose `Hasher` is SipHash seeded at random per
///   process: an attacker cannot precompute keys that collide, so every operation is O(1)
///   expected whatever the keys.
/// - Entries live in a slab of at most `capacity` slots. Inserting into a full table evicts one
///   entry chosen by a CLOCK sweep (second chance) over at most `sweepLimit` slots: an entry the
///   caller says is expendable goes first, else one not touched since the hand last passed, else
///   the last one looked at; so one insert costs a bounded amount of work however the table is
///   filled. Nothing is ever rebuilt in one go.
/// - Removing an entry frees its slot for reuse; nothing grows with the number of keys ever seen.
public struct BoundedTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Slot: Sendable {
        var key: Key
        var value: Value
        var referenced: Bool
    }

    /// Slots a sweep passes over before it evicts whatever is under the hand.
    public static var sweepLimit: Int { 32 }

    public let capacity: Int
    private var index: [Key: Int32] = [:]
    private var slots: [Slot?] = []
    private var free: [Int32] = []
    private var hand = 0
    /// Entries evicted to make room, since the start.
    public private(set) var evicted = 0

    public init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "capacity out of range")
        self.capacity = capacity
    }

    public var count: Int { index.count }
    /// Slots allocated: at most `capacity`, and no more than the most entries held at once.
    var slotCount: Int { slots.count }

    public subscript(key: Key) -> Value? {
        index[key].map { slots[Int($0)]!.value }
    }

    /// Runs `body` on the value for `key`, inserting `make()` first when there is none (and
    /// evicting one entry if the table is full; `expendable` says which entries may go first).
    public mutating func update<R>(_ key: Key, default make: () -> Value, expendable: (Value) -> Bool = { _ in false },
                                   _ body: (inout Value) -> R) -> R {
        if let i = index[key] {
            slots[Int(i)]!.referenced = true
            return body(&slots[Int(i)]!.value)
        }
        if index.count >= capacity { evictOne(expendable) }
        var value = make()
        let result = body(&value)
        let slot: Int
        if let f = free.popLast() {
            slot = Int(f)
            slots[slot] = Slot(key: key, value: value, referenced: false)
        } else {
            slot = slots.count
            slots.append(Slot(key: key, value: value, referenced: false))
        }
        index[key] = Int32(slot)
        return result
    }

    /// Removes `key`; returns its value.
    @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let i = index.removeValue(forKey: key) else { return nil }
        let value = slots[Int(i)]!.value
        slots[Int(i)] = nil
        free.append(i)
        return value
    }

    /// Visits every entry; removes those for which `visit` returns true. O(count + free slots).
    public mutating func removeAll(where visit: (Key, Value) -> Bool) {
        for i in slots.indices {
            guard let s = slots[i], visit(s.key, s.value) else { continue }
            index[s.key] = nil
            slots[i] = nil
            free.append(Int32(i))
        }
    }

    /// Evicts one entry from the `sweepLimit` slots under the hand: the first expendable one,
    /// else the first not touched since the hand last passed (reference bits are cleared on the
    /// way), else the last slot looked at.
    private mutating func evictOne(_ expendable: (Value) -> Bool) {
        var candidate: Int?
        var last = hand
        for _ in 0..<min(Self.sweepLimit, slots.count) {
            let i = hand
            hand = hand + 1 == slots.count ? 0 : hand + 1
            guard let s = slots[i] else { continue } // a full table has no free slot; kept for safety
            last = i
            if expendable(s.value) { candidate = i; break }
            if s.referenced { slots[i]!.referenced = false } else if candidate == nil { candidate = i }
        }
        let i = candidate ?? last
        guard let s = slots[i] else { return }
        index[s.key] = nil
        slots[i] = nil
        free.append(Int32(i))
        evicted += 1
    }
}
