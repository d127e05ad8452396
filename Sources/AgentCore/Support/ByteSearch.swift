#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level search shared by the auth, access-log and secret parsers: memchr to the needle's
/// first byte, then memcmp. Needles are ASCII literals (`StaticString`) or byte arrays.
public enum ByteSearch {
    /// First `byte` at or after `from`.
    @inlinable
    public static func index(of byte: UInt8, in p: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int? {
        guard from >= 0, from < p.count, let base = p.baseAddress,
              let hit = memchr(base + from, Int32(byte), p.count - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// Start of the first `needle` that lies entirely in `from..<end` (`end` defaults to the end).
    public static func find(_ needle: StaticString, in p: UnsafeBufferPointer<UInt8>, from: Int = 0, end: Int? = nil) -> Int? {
        find(needle.utf8Start, needle.utf8CodeUnitCount, in: p, from: from, end: end ?? p.count)
    }

    public static func find(_ needle: [UInt8], in p: UnsafeBufferPointer<UInt8>, from: Int = 0, end: Int? = nil) -> Int? {
        needle.withUnsafeBufferPointer { n in
            guard let base = n.baseAddress else { return nil }
            return find(base, n.count, in: p, from: from, end: end ?? p.count)
        }
    }

    /// True when `needle` occurs entirely inside `range`.
    public static func contains(_ needle: [UInt8], in p: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Bool {
        find(needle, in: p, from: range.lowerBound, end: range.upperBound) != nil
    }

    /// Start of the last `needle` in `p`.
    public static func findLast(_ needle: StaticString, in p: UnsafeBufferPointer<UInt8>) -> Int? {
        let k = needle.utf8CodeUnitCount
        guard p.count >= k, let base = p.baseAddress else { return nil }
        var i = p.count - k
        while i >= 0 {
            if memcmp(base + i, needle.utf8Start, k) == 0 { return i }
            i -= 1
        }
        return nil
    }

    /// The whole of `b` is `s`.
    public static func equals(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && (b.isEmpty || memcmp(b.baseAddress!, s.utf8Start, b.count) == 0)
    }

    public static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        let k = s.utf8CodeUnitCount
        return b.count >= k && (k == 0 || memcmp(b.baseAddress!, s.utf8Start, k) == 0)
    }

    public static func hasSuffix(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        let k = s.utf8CodeUnitCount
        return b.count >= k && (k == 0 || memcmp(b.baseAddress! + (b.count - k), s.utf8Start, k) == 0)
    }

    /// True when `needle` starts at `i`.
    public static func matches(_ needle: [UInt8], in p: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i >= 0, i + needle.count <= p.count, let base = p.baseAddress else { return false }
        return needle.withUnsafeBufferPointer { memcmp(base + i, $0.baseAddress!, needle.count) == 0 }
    }

    static func find(_ needle: UnsafePointer<UInt8>, _ k: Int, in p: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int? {
        let end = min(end, p.count)
        guard k > 0, from >= 0, end - from >= k, let base = p.baseAddress else { return nil }
        let first = Int32(needle.pointee)
        var i = from
        while i + k <= end {
            guard let hit = memchr(base + i, first, end - k + 1 - i) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle, k) == 0 { return at }
            i = at + 1
        }
        return nil
    }
}
