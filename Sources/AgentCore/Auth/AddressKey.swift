/// A source address in 17 bytes, no String: IPv4 as one UInt32, IPv6 as two UInt64 (an
/// IPv4-mapped `::ffff:a.b.c.d` is IPv4), a host name by a keyed 128-bit hash of its text (the
/// text is kept beside it only where it is needed). Parsed straight from the log line's bytes; turned
/// back into text only for an alert.
public struct AddressKey: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case ipv4, ipv6, name }
    public let kind: Kind
    public let hi: UInt64
    public let lo: UInt64

    public init(kind: Kind, hi: UInt64, lo: UInt64) {
        self.kind = kind
        self.hi = hi
        self.lo = lo
    }

    public static func ipv4(_ v: UInt32) -> AddressKey { AddressKey(kind: .ipv4, hi: 0, lo: UInt64(v)) }

    // Inlinable: the detectors' tables (another module) hash and compare keys on every line.
    @inlinable
    public static func == (a: AddressKey, b: AddressKey) -> Bool {
        a.lo == b.lo && a.hi == b.hi && a.kind == b.kind
    }

    @inlinable
    public func hash(into h: inout Hasher) {
        h.combine(lo)
        h.combine(hi)
        h.combine(kind.rawValue)
    }

    // MARK: parsing

    /// IPv4 dotted quad, IPv6 (any case, `::` compression, trailing dotted quad), else nil.
    public static func parseIP<C: Collection<UInt8>>(_ b: C) -> AddressKey? where C.Index == Int {
        if let v4 = parseIPv4(b, from: b.startIndex) { return .ipv4(v4) }
        return parseIPv6(b)
    }

    static func parseIPv4<C: Collection<UInt8>>(_ b: C, from: Int) -> UInt32? where C.Index == Int {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        var i = from
        while i < b.endIndex {
            let c = b[i]
            if c >= 48, c <= 57 {
                part = part * 10 + UInt32(c - 48)
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else if c == 46 {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | part
                part = 0; digits = 0; dots += 1
            } else {
                return nil
            }
            i += 1
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | part
    }

    static func parseIPv6<C: Collection<UInt8>>(_ b: C) -> AddressKey? where C.Index == Int {
        var groups = [UInt16](repeating: 0, count: 8)
        var n = 0
        var gap: Int? // index in groups where "::" stood
        var i = b.startIndex
        let end = b.endIndex
        guard end - i >= 2 else { return nil }
        if b[i] == 58 { // leading "::"
            guard b[i + 1] == 58 else { return nil }
            gap = 0
            i += 2
            if i == end { return AddressKey(kind: .ipv6, hi: 0, lo: 0) }
        }
        while i < end {
            // A trailing dotted quad takes two groups.
            var j = i
            var v: UInt32 = 0
            var digits = 0
            while j < end, digits < 5, let h = Hex.value(b[j]) { v = v << 4 | UInt32(h); digits += 1; j += 1 }
            if j < end, b[j] == 46 {
                guard n <= 6, let v4 = parseIPv4(b, from: i) else { return nil }
                groups[n] = UInt16(v4 >> 16); groups[n + 1] = UInt16(v4 & 0xFFFF)
                n += 2
                i = end
                break
            }
            guard digits >= 1, digits <= 4, n < 8 else { return nil }
            groups[n] = UInt16(v)
            n += 1
            i = j
            if i == end { break }
            guard b[i] == 58 else { return nil }
            i += 1
            if i < end, b[i] == 58 {
                guard gap == nil else { return nil }
                gap = n
                i += 1
                if i == end { break }
            } else if i == end {
                return nil // trailing single ':'
            }
        }
        if let gap {
            guard n < 8 else { return nil }
            let tail = Array(groups[gap..<n])
            for k in gap..<8 { groups[k] = 0 }
            for (k, g) in tail.enumerated() { groups[8 - tail.count + k] = g }
        } else {
            guard n == 8 else { return nil }
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0..<4 { hi = hi << 16 | UInt64(groups[k]) }
        for k in 4..<8 { lo = lo << 16 | UInt64(groups[k]) }
        if hi == 0, lo >> 32 == 0xFFFF { return .ipv4(UInt32(lo & 0xFFFF_FFFF)) } // ::ffff:a.b.c.d
        return AddressKey(kind: .ipv6, hi: hi, lo: lo)
    }

    /// A DNS host name (RFC 1123): ASCII letters, digits and hyphens in dot-separated labels of
    /// 1-63 characters, at most 253 in all, no label starting or ending with a hyphen, and a
    /// last label that is not all digits (so a malformed dotted quad is not a name). One
    /// trailing dot is allowed.
    public static func isHostName<C: Collection<UInt8>>(_ b: C) -> Bool where C.Index == Int {
        var end = b.endIndex
        if end > b.startIndex, b[end - 1] == 46 { end -= 1 }
        guard end > b.startIndex, end - b.startIndex <= 253 else { return false }
        var labelStart = b.startIndex
        var allDigits = true
        var i = b.startIndex
        while i <= end {
            if i == end || b[i] == 46 {
                let length = i - labelStart
                guard length >= 1, length <= 63, b[labelStart] != 45, b[i - 1] != 45 else { return false }
                if i == end { return !allDigits }
                labelStart = i + 1
                allDigits = true
            } else {
                let c = b[i]
                let digit = c >= 48 && c <= 57
                guard digit || c == 45 || (c | 0x20 >= 97 && c | 0x20 <= 122) else { return false }
                if !digit { allDigits = false }
            }
            i += 1
        }
        return false
    }

    /// A host name's key: 128 bits of Swift's `Hasher` (SipHash, seeded at random per process)
    /// over its bytes, two passes with different prefixes. Names come from outside input, so an
    /// unkeyed hash would let a crafted name share another's key; with an unknown seed a
    /// collision is as likely as guessing it. The name itself travels beside the key.
    public static func name<C: Collection<UInt8>>(_ b: C) -> AddressKey {
        var first = Hasher(), second = Hasher()
        first.combine(UInt8(1))
        second.combine(UInt8(2))
        for c in b { first.combine(c); second.combine(c) }
        return AddressKey(kind: .name, hi: UInt64(bitPattern: Int64(first.finalize())), lo: UInt64(bitPattern: Int64(second.finalize())))
    }

    // MARK: formatting

    /// Text of an IP key: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as `::`).
    /// nil for names (their text is kept by whoever needs it).
    public var ipText: String? {
        switch kind {
        case .ipv4:
            let v = UInt32(truncatingIfNeeded: lo)
            return "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
        case .ipv6:
            var g = [UInt16](repeating: 0, count: 8)
            for k in 0..<4 { g[k] = UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64(k))) }
            for k in 0..<4 { g[4 + k] = UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64(k))) }
            var bestStart = -1, bestLen = 1, k = 0
            while k < 8 { // longest run of zero groups, at least 2, first one wins ties
                if g[k] == 0 {
                    var e = k
                    while e < 8, g[e] == 0 { e += 1 }
                    if e - k > bestLen { bestStart = k; bestLen = e - k }
                    k = e
                } else {
                    k += 1
                }
            }
            func hex(_ r: Range<Int>) -> String { r.map { String(g[$0], radix: 16) }.joined(separator: ":") }
            if bestStart < 0 { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
        case .name:
            return nil
        }
    }
}

extension AddressKey: TableKey {
    @inlinable
    public func tableHash(_ seed: TableSeed) -> UInt32 {
        seed.hash(UInt32(truncatingIfNeeded: lo), UInt32(truncatingIfNeeded: lo >> 32),
                  UInt32(truncatingIfNeeded: hi), UInt32(truncatingIfNeeded: hi >> 32), UInt32(kind.rawValue))
    }
}
