public enum NetTCP {
    /// TCP state code for ESTABLISHED in /proc/net/tcp{,6} (include/net/tcp_states.h).
    static let established: Substring = "01"

    /// Counts ESTABLISHED sockets in one /proc/net/tcp or tcp6 table. The header line is
    /// skipped; a data line without a state column is an error.
    public static func establishedCount(_ text: Substring) throws -> Int {
        var count = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 4)
            guard let first = fields.first else { continue }
            if first == "sl" { continue }
            guard first.last == ":", fields.count >= 4, fields[3].count == 2 else {
                throw AgentError(.procParse, "malformed /proc/net/tcp line", input: String(line))
            }
            if fields[3] == established { count += 1 }
        }
        return count
    }
}
