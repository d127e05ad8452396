/// Byte-level reading of /proc text: lines, space-separated fields and decimal numbers, with no
/// String or Substring per field: splitting Substrings would make /proc parsing most of a
/// collection cycle's instructions (callgrind, docs/BENCHMARKS.md); these read the bytes once.
struct ProcText {
    let bytes: UnsafeBufferPointer<UInt8>

    static let newline = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Calls `body` with each line (without its newline) until it returns false. A last line
    /// without a newline counts; empty lines are skipped.
    func forEachLine(_ body: (Line) throws -> Bool) rethrows {
        var start = 0
        let end = bytes.count
        while start < end {
            var stop = start
            while stop < end && bytes[stop] != Self.newline { stop += 1 }
            if stop > start, try !body(Line(bytes: bytes, start: start, end: stop)) { return }
            start = stop + 1
        }
    }

    /// One line, read left to right with a cursor.
    struct Line {
        let bytes: UnsafeBufferPointer<UInt8>
        var start: Int
        let end: Int

        var text: String { String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) }

        /// True when the rest of the line starts with `prefix` (ASCII).
        func hasPrefix(_ prefix: StaticString) -> Bool {
            ByteSearch.hasPrefix(UnsafeBufferPointer(rebasing: bytes[start..<end]), prefix)
        }

        mutating func skip(_ count: Int) { start = min(end, start + count) }

        mutating func skipSpaces() {
            while start < end && (bytes[start] == ProcText.space || bytes[start] == ProcText.tab) { start += 1 }
        }

        /// The next run of non-space bytes, or nil at the end of the line.
        mutating func field() -> Range<Int>? {
            skipSpaces()
            guard start < end else { return nil }
            let from = start
            while start < end && bytes[start] != ProcText.space && bytes[start] != ProcText.tab { start += 1 }
            return from..<start
        }

        /// Moves past the next `byte`; false (cursor at the end) when there is none.
        mutating func skip(past byte: UInt8) -> Bool {
            while start < end {
                defer { start += 1 }
                if bytes[start] == byte { return true }
            }
            return false
        }

        /// The next field as a decimal number; nil when missing, not all digits, or too large.
        mutating func number() -> UInt64? {
            field().flatMap(decimal)
        }

        /// The bytes of `range` as a decimal number; nil when not all digits, or too large.
        func decimal(_ range: Range<Int>) -> UInt64? {
            var v: UInt64 = 0
            for k in range {
                let d = bytes[k] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1 && !o2 else { return nil }
                v = s
            }
            return v
        }

        /// Bytes of `range` equal to `literal`.
        func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
            ByteSearch.equals(UnsafeBufferPointer(rebasing: bytes[range]), literal)
        }
    }
}

extension ProcText {
    /// The first 80 bytes as text, for an error about a whole file.
    var excerpt: String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes.prefix(80)), as: UTF8.self)
    }

    /// Runs `body` over the UTF-8 bytes of `text` without copying when it is contiguous.
    static func with<T>(_ text: Substring, _ body: (ProcText) throws -> T) rethrows -> T {
        var text = text
        return try text.withUTF8 { try body(ProcText(bytes: $0)) }
    }

    static func with<T>(_ bytes: [UInt8], _ body: (ProcText) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer { try body(ProcText(bytes: $0)) }
    }
}
