public enum MemInfo {
    /// Percent used = (MemTotal - MemAvailable) / MemTotal. Kernels older than 3.14 have no
    /// MemAvailable; there MemFree + Buffers + Cached is the closest estimate.
    public static func usagePercent(_ text: Substring) throws -> Double {
        try ProcText.with(text) { try usagePercent($0) }
    }

    public static func usagePercent(_ bytes: [UInt8]) throws -> Double {
        try ProcText.with(bytes) { try usagePercent($0) }
    }

    static func usagePercent(_ text: ProcText) throws -> Double {
        var f = Fields()
        try text.forEachLine { line in
            var line = line
            let slot: WritableKeyPath<Fields, UInt64?>
            if line.hasPrefix("MemTotal:") { slot = \.total }
            else if line.hasPrefix("MemAvailable:") { slot = \.available }
            else if line.hasPrefix("MemFree:") { slot = \.free }
            else if line.hasPrefix("Buffers:") { slot = \.buffers }
            else if line.hasPrefix("Cached:") { slot = \.cached }
            else { return true }
            let whole = line
            _ = line.skip(past: UInt8(ascii: ":"))
            guard let v = line.number() else {
                throw AgentError(.procParse, "bad value in /proc/meminfo", input: whole.text)
            }
            f[keyPath: slot] = v
            return f.total == nil || f.available == nil // both come first: stop reading there
        }
        guard let total = f.total, total > 0 else {
            throw AgentError(.procParse, "MemTotal missing or zero in /proc/meminfo", input: text.excerpt)
        }
        let available: UInt64
        if let a = f.available {
            available = a
        } else if let free = f.free {
            available = free &+ (f.buffers ?? 0) &+ (f.cached ?? 0)
        } else {
            throw AgentError(.procParse, "neither MemAvailable nor MemFree in /proc/meminfo", input: text.excerpt)
        }
        let used = total > available ? total - available : 0
        return Double(used) / Double(total) * 100
    }

    private struct Fields { var total, available, free, buffers, cached: UInt64? }
}
