/// Turns chunks of bytes into complete lines, keeping the unfinished tail for the next chunk.
/// A line longer than `maxLineBytes` is cut there (the rest of it is dropped), so a hostile
/// writer cannot grow memory.
public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    private var partial: [UInt8] = []

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Appends the complete lines in `chunk` (without their newline) to `lines`.
    public mutating func feed<C: Collection<UInt8>>(_ chunk: C, into lines: inout [String]) where C.Index == Int {
        var start = chunk.startIndex
        for i in chunk.indices where chunk[i] == 0x0A {
            partial.append(contentsOf: chunk[start..<i].prefix(max(0, maxLineBytes - partial.count)))
            lines.append(String(decoding: partial, as: UTF8.self))
            partial.removeAll(keepingCapacity: true)
            start = i + 1
        }
        if start < chunk.endIndex {
            partial.append(contentsOf: chunk[start...].prefix(max(0, maxLineBytes - partial.count)))
        }
    }

    /// Forgets an unfinished line (the file it came from was truncated or replaced).
    public mutating func reset() { partial.removeAll() }
}
