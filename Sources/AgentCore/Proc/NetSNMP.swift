public enum NetSNMP {
    /// `tcp_connections`: the kernel's `Tcp: CurrEstab` counter from /proc/net/snmp, i.e. RFC 1213's
    /// tcpCurrEstab, TCP connections in ESTABLISHED or CLOSE-WAIT, IPv4 and IPv6 together, in the
    /// agent's network namespace. The same figure as node_exporter's node_netstat_Tcp_CurrEstab.
    ///
    /// Not a count of state-01 lines in /proc/net/tcp and tcp6: reading those makes the kernel
    /// walk the whole established-socket hash table (sized by RAM, not by connections) once per
    /// read call, a cost that grows with the host's memory. This counter costs the same on any host.
    public static func tcpCurrentlyEstablished(_ text: Substring) throws -> Int {
        try ProcText.with(text) { try tcpCurrentlyEstablished($0) }
    }

    public static func tcpCurrentlyEstablished(_ bytes: [UInt8]) throws -> Int {
        try ProcText.with(bytes) { try tcpCurrentlyEstablished($0) }
    }

    /// The file holds pairs of lines per protocol: `Tcp: Name Name ...` then `Tcp: 1 200 ...`.
    static func tcpCurrentlyEstablished(_ text: ProcText) throws -> Int {
        var column: Int?
        var value: Int?
        try text.forEachLine { line in
            guard line.hasPrefix("Tcp:") else { return true }
            var cursor = line
            cursor.skip(4)
            if column == nil {
                var index = 0
                while let name = cursor.field() {
                    if line.equals(name, "CurrEstab") { column = index; return true }
                    index += 1
                }
                throw AgentError(.procParse, "no CurrEstab column in /proc/net/snmp", input: line.text)
            }
            for _ in 0..<column! {
                guard cursor.field() != nil else {
                    throw AgentError(.procParse, "short Tcp line in /proc/net/snmp", input: line.text)
                }
            }
            guard let v = cursor.number(), v <= UInt64(Int.max) else {
                throw AgentError(.procParse, "bad CurrEstab value in /proc/net/snmp", input: line.text)
            }
            value = Int(v)
            return false
        }
        guard let value else {
            throw AgentError(.procParse, "no Tcp lines in /proc/net/snmp", input: text.excerpt)
        }
        return value
    }
}
