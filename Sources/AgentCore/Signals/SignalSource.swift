/// When a cycle runs: wall time for payloads and windows, the monotonic instant for rates.
public struct CycleTime: Sendable {
    /// Unix seconds.
    public var wall: Int64
    public var instant: ContinuousClock.Instant

    public init(wall: Int64, instant: ContinuousClock.Instant) {
        self.wall = wall
        self.instant = instant
    }
}

/// A producer of signals: host metrics, an auth log, Docker, the attack simulator. The collector
/// asks every source for its batch once per cycle, on the cycle thread, times it and counts its
/// errors (reported per source in /healthz and /metrics), hands its observations to the
/// detectors and puts its metrics, events and logs in the payload.
///
/// A source that receives input between cycles (a tailed file, an event stream) buffers it,
/// bounded, and hands it over here; one whose volume is too high to buffer (auth lines under a
/// flood) feeds the detectors as it reads and hands over only its counters.
public protocol SignalSource: Sendable {
    /// Short and stable: the `source` label in /metrics and the key in /healthz.
    var name: String { get }
    func collect(at time: CycleTime) async -> SourceBatch
}

/// One source's contribution to one cycle.
public struct SourceBatch: Sendable {
    /// Host metrics (one source provides them).
    public var metrics: HostMetrics?
    public var events: [DockerEvent] = []
    public var logs: [LogEntry] = []
    /// For the detectors.
    public var observations = Observations()
    /// Alerts the source raised itself (the attack simulator, through detectors of its own).
    public var findings = Findings()
    /// Read and parse errors of this cycle; counted by code and logged by the collector.
    public var errors: [AgentError] = []
    /// The source's own counters since start, exported as Prometheus counters.
    public var counters: [SourceCounter] = []

    public init(metrics: HostMetrics? = nil, observations: Observations = Observations()) {
        self.metrics = metrics
        self.observations = observations
    }
}

/// A counter a source keeps (a total since start), with the Prometheus name and help it is
/// exported under.
public struct SourceCounter: Sendable, Equatable {
    public var name: String
    public var help: String
    public var value: Int
    /// Label pairs; a series whose labels stop being reported leaves /metrics (a removed container).
    public var labels: [MetricSample.Label]

    public init(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
        self.name = name
        self.help = help
        self.value = value
        self.labels = labels.map { MetricSample.Label(name: $0.0, value: $0.1) }
    }
}

/// A source as /healthz and /metrics report it.
public struct SourceStatus: Sendable, Equatable {
    /// Seconds the last cycle spent collecting from it.
    public var lastDurationSeconds: Double = 0
    /// Errors since start, by code.
    public var errors: [String: Int] = [:]
    public var counters: [SourceCounter] = []

    public init() {}

    public var errorTotal: Int { errors.values.reduce(0, +) }
}
