import AgentCore

/// `CPU_SPIKE` when usage is at or above `spikePercent` and its z-score against a rolling
/// baseline of the last `baselineSamples` samples is at or above `zThreshold`.
///
/// - No alert until the baseline is full.
/// - A sample is judged against the baseline before it, and joins the baseline when its cycle
///   ends, unless it was a spike: a sustained spike (a miner, a runaway process) keeps alerting
///   instead of becoming the new normal after `baselineSamples` cycles; when usage drops below
///   the spike condition, samples flow into the baseline again.
/// - A flat baseline (standard deviation 0) makes any higher sample infinitely unusual; the
///   absolute threshold still applies.
/// - An unknown reading (nil) is neither judged nor added.
public struct CPUSpikeDetector: Detector {
    public let baselineSamples: Int
    public let spikePercent: Double
    public let zThreshold: Double
    private var ring: [Double] = []
    private var next = 0
    /// This cycle's sample, until the cycle ends.
    private var current: Double?

    public init(baselineSamples: Int, spikePercent: Double, zThreshold: Double = 3.0) {
        self.baselineSamples = max(2, baselineSamples)
        self.spikePercent = spikePercent
        self.zThreshold = zThreshold
    }

    public var isBaselineFull: Bool { ring.count == baselineSamples }

    /// Mean and population standard deviation of the baseline.
    public var baseline: (mean: Double, stddev: Double) {
        guard !ring.isEmpty else { return (0, 0) }
        let mean = ring.reduce(0, +) / Double(ring.count)
        let variance = ring.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ring.count)
        return (mean, variance.squareRoot())
    }

    /// The z-score of `usage` against the current baseline (nil until it is full).
    public func zScore(_ usage: Double) -> Double? {
        guard isBaselineFull else { return nil }
        let (mean, sd) = baseline
        if sd == 0 { return usage > mean ? .infinity : 0 }
        return (usage - mean) / sd
    }

    public func isSpike(_ usage: Double) -> Bool {
        guard let z = zScore(usage) else { return false }
        return usage >= spikePercent && z >= zThreshold
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        if let cpu = batch.cpuUsage { current = cpu }
    }

    public func findings(at now: Int64) -> Findings {
        guard let current, isSpike(current) else { return Findings() }
        return Findings(alerts: [Alert(.cpuSpike)])
    }

    public mutating func endCycle(at now: Int64) {
        defer { current = nil }
        guard let usage = current, !isSpike(usage) else { return }
        if ring.count < baselineSamples {
            ring.append(usage)
        } else {
            ring[next] = usage
            next = (next + 1) % baselineSamples
        }
    }

    /// One whole cycle with one sample: true when it is a spike.
    public mutating func sample(_ usage: Double) -> Bool {
        observe(Observations(cpuUsage: usage), at: 0)
        defer { endCycle(at: 0) }
        return !findings(at: 0).alerts.isEmpty
    }
}
