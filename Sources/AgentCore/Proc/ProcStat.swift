/// Aggregate CPU jiffies from the first `cpu ` line of /proc/stat.
public struct CPUTimes: Sendable, Equatable {
    public var user, nice, system, idle, iowait, irq, softirq, steal: UInt64

    public init(user: UInt64, nice: UInt64, system: UInt64, idle: UInt64,
                iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0) {
        self.user = user; self.nice = nice; self.system = system; self.idle = idle
        self.iowait = iowait; self.irq = irq; self.softirq = softirq; self.steal = steal
    }

    /// Guest time is already included in user/nice, so it is not added again.
    public var total: UInt64 { user &+ nice &+ system &+ idle &+ iowait &+ irq &+ softirq &+ steal }
    /// Idle includes iowait: a CPU waiting on disk is not busy.
    public var idleAll: UInt64 { idle &+ iowait }

    /// Percent busy between two samples (0 when no time passed or counters went backwards).
    public static func usagePercent(from old: CPUTimes, to new: CPUTimes) -> Double {
        guard new.total > old.total, new.idleAll >= old.idleAll else { return 0 }
        let dTotal = Double(new.total - old.total)
        let dIdle = Double(new.idleAll - old.idleAll)
        return min(100, max(0, (dTotal - dIdle) / dTotal * 100))
    }
}

public enum ProcStat {
    /// Parses the aggregate `cpu` line. Kernels before 2.6.11 lack steal and earlier fields;
    /// at least user, nice, system and idle are required.
    public static func parse(_ text: Substring) throws -> CPUTimes {
        try ProcText.with(text) { try parse($0) }
    }

    public static func parse(_ bytes: [UInt8]) throws -> CPUTimes {
        try ProcText.with(bytes) { try parse($0) }
    }

    static func parse(_ text: ProcText) throws -> CPUTimes {
        var result: CPUTimes?
        try text.forEachLine { line in
            var cursor = line
            guard let name = cursor.field(), line.equals(name, "cpu") else { return true }
            var values = [UInt64](repeating: 0, count: 8)
            var count = 0
            while count < 8, let f = cursor.field() {
                guard let v = line.decimal(f) else {
                    throw AgentError(.procParse, "non-numeric field in /proc/stat cpu line", input: line.text)
                }
                values[count] = v
                count += 1
            }
            guard count >= 4 else {
                throw AgentError(.procParse, "/proc/stat cpu line has fewer than 4 fields", input: line.text)
            }
            result = CPUTimes(user: values[0], nice: values[1], system: values[2], idle: values[3],
                              iowait: values[4], irq: values[5], softirq: values[6], steal: values[7])
            return false
        }
        guard let result else {
            throw AgentError(.procParse, "no aggregate cpu line in /proc/stat", input: text.excerpt)
        }
        return result
    }
}
