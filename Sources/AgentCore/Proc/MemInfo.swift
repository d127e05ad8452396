public enum MemInfo {
    /// Percent used = (MemTotal - MemAvailable) / MemTotal. Kernels older than 3.14 have no
    /// MemAvailable; there MemFree + Buffers + Cached is the closest estimate.
    public static func usagePercent(_ text: Substring) throws -> Double {
        var fields = [Substring: UInt64]()
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            guard key == "MemTotal" || key == "MemAvailable" || key == "MemFree" || key == "Buffers" || key == "Cached" else { continue }
            let rest = line[line.index(after: colon)...].split(separator: " ")
            guard let first = rest.first, let v = UInt64(first) else {
                throw AgentError(.procParse, "bad value in /proc/meminfo", input: String(line))
            }
            fields[key] = v
        }
        guard let total = fields["MemTotal"], total > 0 else {
            throw AgentError(.procParse, "MemTotal missing or zero in /proc/meminfo", input: String(text.prefix(80)))
        }
        let available: UInt64
        if let a = fields["MemAvailable"] {
            available = a
        } else if let free = fields["MemFree"] {
            available = free &+ (fields["Buffers"] ?? 0) &+ (fields["Cached"] ?? 0)
        } else {
            throw AgentError(.procParse, "neither MemAvailable nor MemFree in /proc/meminfo", input: String(text.prefix(80)))
        }
        let used = total > available ? total - available : 0
        return Double(used) / Double(total) * 100
    }
}
