/// `HTTP_5XX_SPIKE`: per container, over one collection interval, at least `minCount` responses
/// with a 5xx status and a 5xx share of at least `minRatio` among the access-log lines seen.
public struct HTTPErrorSpikeDetector: Sendable {
    public struct Counts: Sendable, Equatable {
        public var total = 0
        public var errors = 0

        public init() {}

        public mutating func add(_ status: Int) {
            total += 1
            if status >= 500 { errors += 1 }
        }
    }

    /// A container over the thresholds in the interval just ended.
    public struct Spike: Sendable, Equatable {
        public var container: String
        public var errors: Int
        public var total: Int
    }

    public let minCount: Int
    public let minRatio: Double
    /// Cap on containers tracked in one interval (each costs a few bytes; bounded anyway).
    public let maxContainers: Int
    private var counts: [String: Counts] = [:]

    public init(minCount: Int, minRatio: Double, maxContainers: Int = 10_000) {
        self.minCount = minCount
        self.minRatio = minRatio
        self.maxContainers = maxContainers
    }

    /// Records one access-log status for a container.
    public mutating func record(container: String, status: Int) {
        if counts.count >= maxContainers, counts[container] == nil { return }
        counts[container, default: Counts()].add(status) // one hash lookup, modified in place
    }

    /// Records the statuses of several lines of one container at once.
    public mutating func record(container: String, counts c: Counts) {
        if counts.count >= maxContainers, counts[container] == nil { return }
        counts[container, default: Counts()].total += c.total
        counts[container, default: Counts()].errors += c.errors
    }

    /// Ends the interval: the containers over both thresholds, sorted by name; counts restart.
    public mutating func endInterval() -> [Spike] {
        defer { counts.removeAll(keepingCapacity: true) }
        return counts.compactMap { name, c in
            guard c.errors >= minCount, c.total > 0, Double(c.errors) / Double(c.total) >= minRatio else { return nil }
            return Spike(container: name, errors: c.errors, total: c.total)
        }.sorted { $0.container < $1.container }
    }
}
