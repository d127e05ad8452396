import AgentCore

/// `HTTP_5XX_SPIKE`: per container, over one collection interval, at least `minCount` responses
/// with a 5xx status and a 5xx share of at least `minRatio` among the access-log lines seen.
public struct HTTPErrorSpikeDetector: Detector {
    /// A container over the thresholds in the interval.
    public struct Spike: Sendable, Equatable {
        public var container: String
        public var errors: Int
        public var total: Int
    }

    public let minCount: Int
    public let minRatio: Double
    /// Cap on containers tracked in one interval (each costs a few bytes; bounded anyway).
    public let maxContainers: Int
    private var counts: [String: HTTPStatusCounts] = [:]

    public init(minCount: Int, minRatio: Double, maxContainers: Int = 10_000) {
        self.minCount = minCount
        self.minRatio = minRatio
        self.maxContainers = maxContainers
    }

    /// Records the statuses of lines of one container.
    public mutating func record(container: String, counts c: HTTPStatusCounts) {
        counts.add(c, for: container, limit: maxContainers)
    }

    /// The containers over both thresholds so far in this interval, sorted by name.
    public var spikes: [Spike] {
        counts.compactMap { name, c in
            guard c.errors >= minCount, c.total > 0, Double(c.errors) / Double(c.total) >= minRatio else { return nil }
            return Spike(container: name, errors: c.errors, total: c.total)
        }.sorted { $0.container < $1.container }
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        for (container, c) in batch.httpStatuses { record(container: container, counts: c) }
    }

    public func findings(at now: Int64) -> Findings {
        let s = spikes
        guard !s.isEmpty else { return Findings() }
        return Findings(alerts: [Alert(.http5xxSpike)], details: s.map {
            AlertDetail(rule: .http5xxSpike, container: $0.container, errors: $0.errors, total: $0.total)
        })
    }

    /// The interval ends with the cycle: counts restart.
    public mutating func endCycle(at now: Int64) {
        counts.removeAll(keepingCapacity: true)
    }
}
