import AgentCore
import Synchronization

/// A local detection: observations in, typed alerts with their `alerts_detail` out.
///
/// A cycle is `observe` (any number of times: auth failures arrive every second, the rest once
/// per cycle), then `findings`, then `endCycle`. Asking for findings changes nothing, so the
/// answer can be read, logged and re-read; what moves a detector on (a sample joining the
/// baseline, a window sliding, per-interval counts restarting) happens in `endCycle`.
/// Weights are not a detector's business: `AlertRule.weight` is the one table of them.
public protocol Detector: Sendable {
    /// Takes what it judges from a batch at `now` (unix seconds); ignores the rest.
    mutating func observe(_ batch: Observations, at now: Int64)
    /// What it raises as of `now`.
    func findings(at now: Int64) -> Findings
    /// Closes the cycle whose findings were just taken.
    mutating func endCycle(at now: Int64)
    /// What it had to drop or forget to stay bounded (totals since start), for /metrics.
    var counters: [SourceCounter] { get }
}

extension Detector {
    public var counters: [SourceCounter] { [] }
}

/// The detectors of one agent (or of the attack simulator) behind one lock: sources feed them
/// from their own tasks, the collector takes the cycle's findings.
public final class DetectorSet: Sendable {
    private let detectors: Mutex<[any Detector]>
    /// Alerts of one rule listed in a cycle's findings at most; the rest are counted (`Findings.omitted`).
    public let maxAlertsPerRule: Int

    public init(_ detectors: [any Detector], maxAlertsPerRule: Int = .max) {
        self.detectors = Mutex(detectors)
        self.maxAlertsPerRule = maxAlertsPerRule
    }

    /// The standard detectors with their settings and the settings' cap on alerts per rule.
    public convenience init(standard s: DetectorSettings) {
        self.init(Detectors.standard(s), maxAlertsPerRule: s.maxAlertsPerRule)
    }

    public func observe(_ batch: Observations, at now: Int64) {
        guard !batch.isEmpty else { return }
        detectors.withLock { ds in
            for i in ds.indices { ds[i].observe(batch, at: now) }
        }
    }

    /// Every detector's findings at `now`, each alert once, without ending the cycle.
    public func findings(at now: Int64) -> Findings {
        detectors.withLock { merged($0, at: now) }
    }

    /// The cycle's findings, then every detector's cycle ends, under one lock.
    public func cycle(at now: Int64) -> Findings {
        detectors.withLock { ds in
            let f = merged(ds, at: now)
            for i in ds.indices { ds[i].endCycle(at: now) }
            return f
        }
    }

    /// Every detector's counters.
    public func counters() -> [SourceCounter] {
        detectors.withLock { ds in ds.flatMap(\.counters) }
    }

    private func merged(_ ds: [any Detector], at now: Int64) -> Findings {
        var out = Findings()
        for d in ds { out.add(d.findings(at: now)) }
        return out.capped(perRule: maxAlertsPerRule)
    }
}

/// The settings every standard detector is built from.
public struct DetectorSettings: Sendable {
    public var failedAuthThreshold: Int
    public var authWindowSeconds: Int
    public var maxTrackedAddresses = BruteForceDetector.defaultMaxTracked
    /// Alerts of one rule a cycle lists at most (the worst first); the rest count in the score.
    public var maxAlertsPerRule = Findings.maxAlertsPerRule(payloadBytes: 1 << 20)
    public var baselineSamples: Int
    public var cpuSpikePct: Double
    public var cpuZScore = 3.0
    public var authSlowWindowSeconds = 86_400
    /// 0: the long window is off.
    public var authSlowThreshold = 30
    public var userEnumThreshold = 10
    public var distributedAddresses = 20
    public var authCountProbes = false
    public var shellAlertAll = false
    public var http5xxMin = 10
    public var http5xxRatio = 0.2

    public init(failedAuthThreshold: Int, authWindowSeconds: Int, baselineSamples: Int, cpuSpikePct: Double) {
        self.failedAuthThreshold = failedAuthThreshold
        self.authWindowSeconds = authWindowSeconds
        self.baselineSamples = baselineSamples
        self.cpuSpikePct = cpuSpikePct
    }

    public init(_ c: AgentConfiguration) {
        self.init(failedAuthThreshold: c.failedAuthThreshold, authWindowSeconds: c.authWindowSeconds,
                  baselineSamples: c.baselineSamples, cpuSpikePct: c.cpuSpikePct)
        authSlowWindowSeconds = c.authSlowWindowSeconds
        authSlowThreshold = c.authSlowThreshold
        userEnumThreshold = c.userEnumThreshold
        distributedAddresses = c.distributedAddresses
        authCountProbes = c.authCountProbes
        shellAlertAll = c.shellAlertAll
        http5xxMin = c.http5xxMin
        http5xxRatio = c.http5xxRatio
        maxAlertsPerRule = Findings.maxAlertsPerRule(payloadBytes: c.maxPayloadBytes)
    }
}

/// The registry: every detector the agent runs. A new detector is a file in this module and a
/// line here.
public enum Detectors {
    public static func standard(_ s: DetectorSettings) -> [any Detector] {
        [
            CPUSpikeDetector(baselineSamples: s.baselineSamples, spikePercent: s.cpuSpikePct, zThreshold: s.cpuZScore),
            BruteForceDetector(threshold: s.failedAuthThreshold, windowSeconds: s.authWindowSeconds, slowThreshold: s.authSlowThreshold,
                               slowWindowSeconds: s.authSlowWindowSeconds, countProbes: s.authCountProbes, maxTracked: s.maxTrackedAddresses,
                               maxAlerts: s.maxAlertsPerRule),
            UserEnumerationDetector(threshold: s.userEnumThreshold, windowSeconds: s.authWindowSeconds),
            DistributedBruteForceDetector(threshold: s.distributedAddresses, windowSeconds: s.authWindowSeconds),
            ShellInContainerDetector(alertAll: s.shellAlertAll),
            HTTPErrorSpikeDetector(minCount: s.http5xxMin, minRatio: s.http5xxRatio),
        ]
    }
}
