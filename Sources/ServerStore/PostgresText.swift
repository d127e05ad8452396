import AgentCore

/// What PostgreSQL refuses and agents can send: text with a NUL character (`text` cannot hold
/// one), and JSON with a `\u0000` escape or a lone surrogate escape (`jsonb` refuses both). A
/// refused value would fail the whole transaction it is in, so every agent-sent string passes
/// through here first; each such character becomes U+FFFD.
public enum PostgresText {
    public static func text(_ s: String) -> String {
        s.utf8.contains(0) ? s.replacing("\u{0}", with: "\u{FFFD}") : s
    }

    public static func text(_ s: String?) -> String? { s.map(text) }

    /// A JSON document's bytes made acceptable to `jsonb`: `\u0000` and unpaired surrogate
    /// escapes inside strings become `\ufffd`; everything else is kept byte for byte.
    public static func json(_ bytes: [UInt8]) -> String {
        guard bytes.contains(UInt8(ascii: "\\")) else { return String(decoding: bytes, as: UTF8.self) }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\"), i + 1 < bytes.count else { out.append(b); i += 1; continue }
            // A backslash outside a string is not valid JSON, which the verifier refused already;
            // inside one it always starts an escape of two bytes or a \uXXXX of six.
            guard bytes[i + 1] == UInt8(ascii: "u"), let unit = codeUnit(bytes, at: i) else {
                out.append(b); out.append(bytes[i + 1]); i += 2; continue
            }
            if (0xD800...0xDBFF).contains(unit), let low = codeUnit(bytes, at: i + 6), (0xDC00...0xDFFF).contains(low) {
                out.append(contentsOf: bytes[i..<(i + 12)])
                i += 12
            } else if unit == 0 || (0xD800...0xDFFF).contains(unit) {
                out.append(contentsOf: Array(#"\ufffd"#.utf8))
                i += 6
            } else {
                out.append(contentsOf: bytes[i..<(i + 6)])
                i += 6
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The code unit of a `\uXXXX` escape at `i`, or nil when there is none.
    private static func codeUnit(_ bytes: [UInt8], at i: Int) -> UInt16? {
        guard i + 5 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
        return Hex.codeUnit(bytes[(i + 2)...(i + 5)])
    }
}
