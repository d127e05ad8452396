import AgentCore
import AgentPlatform

/// Collects `HostMetrics` from procfs and statvfs. Rates (CPU %, bytes/s) are deltas since the
/// previous `collect`, so the first call only primes the counters; construct it at start-up
/// and call `prime` so the first payload already covers a real interval.
public struct HostMetricsCollector: Sendable {
    public let proc: ProcFS
    public let diskPath: String

    private var lastCPU: CPUTimes?
    private var lastNet: [String: InterfaceCounters]?
    private var lastNetAt: ContinuousClock.Instant?

    private let statPath, meminfoPath, netDevPath, snmpPath: String

    public init(proc: ProcFS, diskPath: String) {
        self.proc = proc
        self.diskPath = diskPath
        (statPath, meminfoPath) = (proc.path("stat"), proc.path("meminfo"))
        (netDevPath, snmpPath) = (proc.path("net/dev"), proc.path("net/snmp"))
    }

    /// Records the starting counters without producing metrics.
    public mutating func prime(now: ContinuousClock.Instant) {
        lastCPU = try? ProcStat.parse(FileReading.readBytes(path: statPath))
        lastNet = try? NetDev.parse(FileReading.readBytes(path: netDevPath))
        lastNetAt = now
    }

    /// One sample. A failing source reports an error in `errors` and nil (sent as null) for its
    /// metric, so one broken file never blocks the others and never reads as a real 0. A rate
    /// needs two readings: it is nil until a source has been read twice in a row.
    public mutating func collect(now: ContinuousClock.Instant) -> (metrics: HostMetrics, errors: [AgentError]) {
        var errors = [AgentError]()
        func attempt<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch let e as AgentError { errors.append(e); return nil } catch {
                errors.append(AgentError(.fileRead, "unexpected error", cause: error)); return nil
            }
        }

        var cpu: Double?
        let times = attempt({ try ProcStat.parse(FileReading.readBytes(path: statPath)) })
        if let times, let last = lastCPU { cpu = CPUTimes.usagePercent(from: last, to: times) }
        lastCPU = times
        let memory = attempt { try MemInfo.usagePercent(FileReading.readBytes(path: meminfoPath)) }
        let disk = attempt { try DiskStats.blocks(path: diskPath).usedPercent }

        var rx: Double?, tx: Double?
        let net = attempt({ try NetDev.parse(FileReading.readBytes(path: netDevPath)) })
        if let net, let last = lastNet, let at = lastNetAt {
            (rx, tx) = NetDev.rates(old: last, new: net, elapsedSeconds: at.duration(to: now).inSeconds)
        }
        lastNet = net
        lastNetAt = now

        let tcp = attempt { try NetSNMP.tcpCurrentlyEstablished(FileReading.readBytes(path: snmpPath)) }

        let metrics = HostMetrics(cpuUsage: cpu, memoryUsage: memory, diskUsage: disk,
                                  networkRxBytesPerSec: rx, networkTxBytesPerSec: tx, tcpConnections: tcp)
        return (metrics.rounded(), errors)
    }
}
