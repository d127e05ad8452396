/// A keyed 64-bit hash of text (Swift's `Hasher`, SipHash seeded at random per process): names
/// from outside are compared and stored by it, and crafted names cannot be made to collide.
public enum KeyedHash {
    public static func of(_ s: String) -> UInt64 {
        var h = Hasher()
        h.combine(s)
        return UInt64(bitPattern: Int64(h.finalize()))
    }
}
