/// ASCII hexadecimal digits, as escapes (`%XX`, `\uXXXX`) and IPv6 addresses write them.
public enum Hex {
    /// The value of one digit (either case); nil for any other byte.
    @inlinable @inline(__always)
    public static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The value of exactly four digits (a `\uXXXX` escape's); nil when there are not four or
    /// one is not a digit.
    @inlinable
    public static func codeUnit(_ digits: some Collection<UInt8>) -> UInt16? {
        guard digits.count == 4 else { return nil }
        var v: UInt16 = 0
        for c in digits {
            guard let d = value(c) else { return nil }
            v = v << 4 | UInt16(d)
        }
        return v
    }
}
