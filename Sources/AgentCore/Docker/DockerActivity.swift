import Synchronization

/// What the Docker monitor gathered since the last payload, handed to the collector once per
/// interval. Bounded: at most `maxEventsPerPayload` events go in one payload and the rest carry
/// over to the next ones (up to `eventBacklog`, beyond which the oldest are dropped and counted);
/// at most `maxLogEntries` log lines per payload, the oldest dropped and counted.
public final class DockerActivity: Sendable {
    public enum Connection: String, Sendable, Equatable {
        /// `--docker-socket ""`: Docker monitoring is off.
        case disabled
        case connecting
        case connected
        case unavailable
    }

    /// Counters for /metrics and tests.
    public struct Counters: Sendable, Equatable {
        public var eventsSeen = 0
        public var eventsDropped = 0
        public var eventsMalformed = 0
        public var logLinesStreamed = 0
        public var logLinesDropped = 0
        public var logLinesTruncated = 0
        public var valuesMasked = 0
        public var malformedFrames = 0
        public var shellAlerts = 0
        public var reconnects = 0
        public init() {}
    }

    /// One payload's worth.
    public struct Batch: Sendable, Equatable {
        public var events: [DockerEvent] = []
        public var logs: [LogEntry] = []
        public var alerts: [Alert] = []
        public var details: [AlertDetail] = []
        public init() {}
    }

    struct State {
        var connection: Connection
        var apiVersion: String?
        var events: [DockerEvent] = []
        var logs: [LogEntry] = []
        var logHead = 0
        var shellDetails: [AlertDetail] = []
        var http: HTTPErrorSpikeDetector
        var counters = Counters()
    }

    public let maxEventsPerPayload: Int
    public let eventBacklog: Int
    public let maxLogEntries: Int
    private let state: Mutex<State>

    public init(maxEventsPerPayload: Int, maxLogEntries: Int, http5xxMin: Int, http5xxRatio: Double,
                connection: Connection = .connecting) {
        self.maxEventsPerPayload = max(1, maxEventsPerPayload)
        self.eventBacklog = max(1, maxEventsPerPayload) * 10
        self.maxLogEntries = max(0, maxLogEntries)
        state = Mutex(State(connection: connection, http: HTTPErrorSpikeDetector(minCount: http5xxMin, minRatio: http5xxRatio)))
    }

    public var connection: Connection { state.withLock { $0.connection } }
    public var apiVersion: String? { state.withLock { $0.apiVersion } }
    public var counters: Counters { state.withLock { $0.counters } }

    public func setConnection(_ c: Connection, apiVersion: String? = nil) {
        state.withLock {
            if c == .connected, $0.connection != .connected, $0.counters.eventsSeen > 0 || $0.apiVersion != nil {
                $0.counters.reconnects += 1
            }
            $0.connection = c
            if let apiVersion { $0.apiVersion = apiVersion }
        }
    }

    public func add(event: DockerEvent) {
        state.withLock {
            $0.counters.eventsSeen += 1
            $0.events.append(event)
            if $0.events.count > eventBacklog {
                let over = $0.events.count - eventBacklog
                $0.events.removeFirst(over)
                $0.counters.eventsDropped += over
            }
        }
    }

    public func countMalformedEvent() {
        state.withLock { $0.counters.eventsMalformed += 1 }
    }

    /// Adds processed log lines of one container (one lock for a whole read).
    public func add(logs results: [LogLineProcessor.Result], malformedFrames: Int = 0) {
        guard !results.isEmpty || malformedFrames > 0 else { return }
        state.withLock { s in
            s.counters.malformedFrames += malformedFrames
            for r in results {
                s.counters.logLinesStreamed += 1
                s.counters.valuesMasked += r.maskedValues
                if r.truncated { s.counters.logLinesTruncated += 1 }
                if let status = r.httpStatus { s.http.record(container: r.entry.container, status: status) }
                guard maxLogEntries > 0 else { s.counters.logLinesDropped += 1; continue }
                s.logs.append(r.entry)
                // Drop the oldest beyond the bound; compact lazily so dropping stays O(1).
                if s.logs.count - s.logHead > maxLogEntries {
                    s.logHead += 1
                    s.counters.logLinesDropped += 1
                    if s.logHead >= maxLogEntries {
                        s.logs.removeFirst(s.logHead)
                        s.logHead = 0
                    }
                }
            }
        }
    }

    public func add(shellExec detail: AlertDetail) {
        state.withLock {
            $0.counters.shellAlerts += 1
            $0.shellDetails.append(detail)
        }
    }

    /// Takes what goes into the next payload and ends the 5xx interval.
    public func drain() -> Batch {
        state.withLock { s in
            var b = Batch()
            let n = min(maxEventsPerPayload, s.events.count)
            b.events = Array(s.events.prefix(n))
            s.events.removeFirst(n)
            b.logs = Array(s.logs[s.logHead...])
            s.logs.removeAll(keepingCapacity: true)
            s.logHead = 0
            if !s.shellDetails.isEmpty {
                b.alerts.append(Alert(.shellInContainer))
                b.details += s.shellDetails
                s.shellDetails.removeAll()
            }
            let spikes = s.http.endInterval()
            if !spikes.isEmpty {
                b.alerts.append(Alert(.http5xxSpike))
                b.details += spikes.map {
                    AlertDetail(rule: .http5xxSpike, container: $0.container, errors: $0.errors, total: $0.total)
                }
            }
            return b
        }
    }
}
