/// Byte counters of one interface from /proc/net/dev.
public struct InterfaceCounters: Sendable, Equatable {
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public init(rxBytes: UInt64, txBytes: UInt64) { self.rxBytes = rxBytes; self.txBytes = txBytes }
}

public enum NetDev {
    /// Interface name -> counters, loopback excluded. The two header lines are skipped;
    /// a line that is not `name: 16 numbers` is an error naming it.
    public static func parse(_ text: Substring) throws -> [String: InterfaceCounters] {
        try ProcText.with(text) { try parse($0) }
    }

    public static func parse(_ bytes: [UInt8]) throws -> [String: InterfaceCounters] {
        try ProcText.with(bytes) { try parse($0) }
    }

    static func parse(_ text: ProcText) throws -> [String: InterfaceCounters] {
        var out = [String: InterfaceCounters]()
        try text.forEachLine { line in
            var cursor = line
            guard cursor.skip(past: UInt8(ascii: ":")) else { return true } // headers
            var name = ProcText.Line(bytes: line.bytes, start: line.start, end: cursor.start - 1)
            guard let nameRange = name.field() else { return true }
            guard let rx = cursor.number() else {
                throw AgentError(.procParse, "malformed /proc/net/dev line", input: line.text)
            }
            for _ in 0..<7 {
                guard cursor.field() != nil else {
                    throw AgentError(.procParse, "malformed /proc/net/dev line", input: line.text)
                }
            }
            guard let tx = cursor.number() else {
                throw AgentError(.procParse, "malformed /proc/net/dev line", input: line.text)
            }
            if line.equals(nameRange, "lo") { return true }
            let key = String(decoding: UnsafeBufferPointer(rebasing: line.bytes[nameRange]), as: UTF8.self)
            out[key] = InterfaceCounters(rxBytes: rx, txBytes: tx)
            return true
        }
        return out
    }

    /// Bytes moved between two readings of one counter. A decrease is a 32-bit wrap when the
    /// old value fits in 32 bits (older drivers), otherwise a reset (interface re-created),
    /// where the new value is what moved since the reset.
    public static func counterDelta(old: UInt64, new: UInt64) -> UInt64 {
        if new >= old { return new - old }
        if old <= UInt64(UInt32.max) { return (UInt64(UInt32.max) - old) + new + 1 }
        return new
    }

    /// Summed rx/tx bytes per second over interfaces present in both readings.
    public static func rates(old: [String: InterfaceCounters], new: [String: InterfaceCounters],
                             elapsedSeconds: Double) -> (rx: Double, tx: Double) {
        guard elapsedSeconds > 0 else { return (0, 0) }
        var rx: UInt64 = 0, tx: UInt64 = 0
        for (name, n) in new {
            guard let o = old[name] else { continue }
            rx &+= counterDelta(old: o.rxBytes, new: n.rxBytes)
            tx &+= counterDelta(old: o.txBytes, new: n.txBytes)
        }
        return (Double(rx) / elapsedSeconds, Double(tx) / elapsedSeconds)
    }
}
