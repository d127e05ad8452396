public enum NetTCP {
    /// Counts ESTABLISHED sockets (state `01`, include/net/tcp_states.h) in one /proc/net/tcp or
    /// tcp6 table. The header line is skipped; a data line without a state column is an error.
    public static func establishedCount(_ text: Substring) throws -> Int {
        try ProcText.with(text) { try establishedCount($0) }
    }

    public static func establishedCount(_ bytes: [UInt8]) throws -> Int {
        try ProcText.with(bytes) { try establishedCount($0) }
    }

    /// A line is `sl: local remote st ...`; only the fourth field is read.
    static func establishedCount(_ text: ProcText) throws -> Int {
        var count = 0
        try text.forEachLine { line in
            var cursor = line
            guard let first = cursor.field() else { return true }
            if line.equals(first, "sl") { return true }
            guard line.bytes[first.upperBound - 1] == UInt8(ascii: ":"),
                  cursor.field() != nil, cursor.field() != nil, let state = cursor.field(), state.count == 2 else {
                throw AgentError(.procParse, "malformed /proc/net/tcp line", input: line.text)
            }
            if line.bytes[state.lowerBound] == UInt8(ascii: "0") && line.bytes[state.lowerBound + 1] == UInt8(ascii: "1") {
                count += 1
            }
            return true
        }
        return count
    }
}
