import AgentCore
import Synchronization

/// Host metrics as a signal source: one `HostMetricsCollector` sample per cycle, its CPU usage
/// handed to the detectors and its read errors to the collector. Primed when made, so the first
/// payload's rates already cover a real interval.
public final class HostMetricsSource: SignalSource {
    public let name = "host"
    private let collector: Mutex<HostMetricsCollector>

    public init(_ collector: HostMetricsCollector, now: ContinuousClock.Instant) {
        var c = collector
        c.prime(now: now)
        self.collector = Mutex(c)
    }

    public func collect(at time: CycleTime) async -> SourceBatch {
        let (sample, errors) = collector.withLock { $0.collect(now: time.instant) }
        var batch = SourceBatch(metrics: sample, observations: Observations(cpuUsage: sample.cpuUsage))
        batch.errors = errors
        return batch
    }
}
