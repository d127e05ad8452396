/// Splits a top-level JSON array that arrives in chunks into its elements, one complete element
/// at a time, so a listing of any length is decoded with memory for one element (Docker's
/// `/containers/json` has no paging: 100,000 containers are one 100 MB body). Strings and their
/// escapes are tracked, so brackets inside them do not count. An element longer than
/// `maxElementBytes` is skipped (counted in `oversized`), and anything that is not an array of
/// values ends the scan (`failed`). It checks structure, not JSON grammar: each element is
/// decoded by a real JSON decoder afterwards.
public struct JSONArrayScanner: Sendable {
    public let maxElementBytes: Int
    /// Elements skipped because they were longer than `maxElementBytes`.
    public private(set) var oversized = 0
    /// The input was not an array of values; nothing more is scanned.
    public private(set) var failed = false
    /// The closing bracket of the array was seen.
    public private(set) var finished = false

    private enum Phase { case beforeArray, betweenElements, inElement }
    private var phase = Phase.beforeArray
    private var element: [UInt8] = []
    private var tooLong = false
    private var depth = 0
    private var inString = false
    private var escaped = false

    public init(maxElementBytes: Int) { self.maxElementBytes = maxElementBytes }

    /// Appends the elements completed by `chunk` to `elements`.
    public mutating func feed<C: Collection<UInt8>>(_ chunk: C, into elements: inout [[UInt8]]) {
        for b in chunk {
            if failed || finished { return }
            switch phase {
            case .beforeArray:
                if Self.isSpace(b) { continue }
                if b == UInt8(ascii: "[") { phase = .betweenElements } else { failed = true }
            case .betweenElements:
                if Self.isSpace(b) || b == UInt8(ascii: ",") { continue }
                if b == UInt8(ascii: "]") { finished = true; continue }
                phase = .inElement
                element.removeAll(keepingCapacity: true)
                tooLong = false
                depth = 0
                inString = false
                escaped = false
                take(b, into: &elements)
            case .inElement:
                take(b, into: &elements)
            }
        }
    }

    private mutating func take(_ b: UInt8, into elements: inout [[UInt8]]) {
        if inString {
            if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            append(b)
            return
        }
        switch b {
        case UInt8(ascii: "\""):
            inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 { // the array's own "]" right after a scalar element
                end(into: &elements)
                finished = b == UInt8(ascii: "]")
                failed = b == UInt8(ascii: "}")
                return
            }
            depth -= 1
        case UInt8(ascii: ","):
            if depth == 0 { end(into: &elements); return }
        default:
            if depth == 0, Self.isSpace(b) { end(into: &elements); return }
        }
        append(b)
        if depth == 0, b == UInt8(ascii: "}") || b == UInt8(ascii: "]") { end(into: &elements) }
    }

    private mutating func append(_ b: UInt8) {
        if element.count < maxElementBytes { element.append(b) } else { tooLong = true }
    }

    private mutating func end(into elements: inout [[UInt8]]) {
        if tooLong { oversized += 1 } else if !element.isEmpty { elements.append(element) }
        element.removeAll(keepingCapacity: true)
        phase = .betweenElements
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
