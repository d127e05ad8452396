/// A key a `BoundedTable` can hash with its own random seed.
///
/// The default is Swift's `Hasher` (SipHash, seeded at random per process). Fixed-width keys
/// (pids, addresses) instead use vector multiply-shift (Thorup, "High Speed Hashing for Integers
/// and Strings", 2015, section 3.3): the key as 32-bit chunks `x_i`, 64-bit multipliers `a_i`
/// drawn at random per table, `(a_0 + Σ a_{i+1}·x_i) mod 2^64` and its high 32 bits. That family
/// is strongly universal: for any two distinct keys, chosen without knowing the seed, the chance
/// they share a hash is 2^-32, and any bits taken from it (a table's bucket) are as good, at a few
/// multiplications instead of a SipHash round per key.
public protocol TableKey: Hashable, Sendable {
    func tableHash(_ seed: TableSeed) -> UInt32
}

extension TableKey {
    @inlinable
    public func tableHash(_ seed: TableSeed) -> UInt32 {
        var h = Hasher()
        h.combine(self)
        return UInt32(truncatingIfNeeded: h.finalize())
    }
}

/// Six random 64-bit multipliers, drawn per table from the system's random source.
public struct TableSeed: Sendable {
    public let a0, a1, a2, a3, a4, a5: UInt64

    public init() {
        var rng = SystemRandomNumberGenerator()
        (a0, a1, a2, a3, a4, a5) = (rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next())
    }

    /// Strongly universal 32-bit hash of one 32-bit word.
    @inlinable
    public func hash(_ x: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: (a0 &+ a1 &* UInt64(x)) >> 32)
    }

    /// Strongly universal 32-bit hash of five 32-bit words.
    @inlinable
    public func hash(_ x0: UInt32, _ x1: UInt32, _ x2: UInt32, _ x3: UInt32, _ x4: UInt32) -> UInt32 {
        let sum = a0 &+ a1 &* UInt64(x0) &+ a2 &* UInt64(x1) &+ a3 &* UInt64(x2) &+ a4 &* UInt64(x3) &+ a5 &* UInt64(x4)
        return UInt32(truncatingIfNeeded: sum >> 32)
    }
}

extension Int32: TableKey {
    @inlinable
    public func tableHash(_ seed: TableSeed) -> UInt32 { seed.hash(UInt32(bitPattern: self)) }
}

extension Int: TableKey {}
extension String: TableKey {}
