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
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.first == "cpu" else { continue }
            var values = [UInt64]()
            for f in fields.dropFirst().prefix(8) {
                guard let v = UInt64(f) else {
                    throw AgentError(.procParse, "non-numeric field in /proc/stat cpu line", input: String(line))
                }
                values.append(v)
            }
            guard values.count >= 4 else {
                throw AgentError(.procParse, "/proc/stat cpu line has fewer than 4 fields", input: String(line))
            }
            while values.count < 8 { values.append(0) }
            return CPUTimes(user: values[0], nice: values[1], system: values[2], idle: values[3],
                            iowait: values[4], irq: values[5], softirq: values[6], steal: values[7])
        }
        throw AgentError(.procParse, "no aggregate cpu line in /proc/stat", input: String(text.prefix(80)))
    }
}
