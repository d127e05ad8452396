import DequeModule
import Synchronization

/// A container log line waiting for the next payload: raw until then. Masking and the String for
/// the payload are made in `drain` for the lines that are kept (at most `maxLogEntries` per
/// payload), so a chatty container costs no masking for lines that would be dropped anyway. The
/// only masking state, "inside a PEM private key block", is tracked for every line on arrival.
public struct PendingLogLine: Sendable {
    public var container: String
    public var line: DockerLogLine
    public var startsInPrivateKey: Bool
    /// Arrival time, used only when the line carried no timestamp.
    public var fallbackTimestamp: String?

    public init(container: String, line: DockerLogLine, startsInPrivateKey: Bool, fallbackTimestamp: String?) {
        self.container = container
        self.line = line
        self.startsInPrivateKey = startsInPrivateKey
        self.fallbackTimestamp = fallbackTimestamp
    }
}

/// Per container: turns decoded lines into pending ones, reading HTTP statuses (every line counts
/// for 5xx spikes) and carrying the private-key state of each stream from line to line.
public struct LogIntake: Sendable {
    public let container: String
    private var inPrivateKey = [false, false, false] // by stream number

    public init(container: String) {
        self.container = container
    }

    public mutating func take(_ lines: [DockerLogLine], now: () -> String,
                              into pending: inout [PendingLogLine], statuses: inout HTTPStatusCounts) {
        for line in lines {
            if let status = HTTPStatusParser.status(in: line.bytes) { statuses.add(status) }
            let k = Int(line.stream.rawValue)
            let before = inPrivateKey[k]
            inPrivateKey[k] = SecretMasker.privateKeyState(after: line.bytes, startingInside: before)
            pending.append(PendingLogLine(container: container, line: line, startsInPrivateKey: before,
                                          fallbackTimestamp: line.timestamp == nil ? now() : nil))
        }
    }
}

/// What the Docker monitor gathered since the last payload, handed to the collector once per
/// interval. Bounded: at most `maxEventsPerPayload` events go in one payload and the rest carry
/// over to the next ones (up to `eventBacklog`, beyond which the oldest are dropped and counted);
/// at most `maxLogEntries` log lines per payload, shared fairly between containers (`FairLogBuffer`:
/// each keeps its newest, the busiest lose lines first, drops counted per container); at most
/// `maxExecs` execs and `maxStatusContainers` containers' HTTP statuses per interval for the
/// detectors, the rest counted.
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
        /// Execs seen in containers, and those past `maxExecs` in one interval.
        public var execsSeen = 0
        public var execsDropped = 0
        public var reconnects = 0
        /// Requests sent to the Engine API (a stream counts once, when opened).
        public var apiRequests = 0
        /// Running containers not followed because --max-containers were.
        public var containersUnfollowed = 0
        public init() {}
    }

    /// One payload's worth, and what the detectors judge.
    public struct Batch: Sendable, Equatable {
        public var events: [DockerEvent] = []
        public var logs: [LogEntry] = []
        public var observations = Observations()
        public init() {}
    }

    public static let maxExecs = 10_000
    public static let maxStatusContainers = 10_000

    struct State {
        var connection: Connection
        var apiVersion: String?
        var events: Deque<DockerEvent> = []
        var logs: FairLogBuffer
        var execs: [ContainerExec] = []
        var statuses: [String: HTTPStatusCounts] = [:]
        var counters = Counters()
    }

    public let maxEventsPerPayload: Int
    public let eventBacklog: Int
    public let maxLogEntries: Int
    public let processor: LogLineProcessor
    private let state: Mutex<State>

    public init(maxEventsPerPayload: Int, maxLogEntries: Int, maxLineBytes: Int = 4096, connection: Connection = .connecting) {
        self.processor = LogLineProcessor(maxLineBytes: maxLineBytes)
        self.maxEventsPerPayload = max(1, maxEventsPerPayload)
        self.eventBacklog = max(1, maxEventsPerPayload) * 10
        self.maxLogEntries = max(0, maxLogEntries)
        state = Mutex(State(connection: connection, logs: FairLogBuffer(budget: maxLogEntries)))
    }

    public var connection: Connection { state.withLock { $0.connection } }
    public var apiVersion: String? { state.withLock { $0.apiVersion } }
    public var counters: Counters {
        state.withLock { s in
            var c = s.counters
            c.logLinesDropped = s.logs.dropped // the log buffer counts its own drops
            return c
        }
    }

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

    public func countUnfollowedContainers(_ n: Int) {
        state.withLock { $0.counters.containersUnfollowed += n }
    }

    public func countAPIRequest() {
        state.withLock { $0.counters.apiRequests += 1 }
    }

    public func countMalformedEvent() {
        state.withLock { $0.counters.eventsMalformed += 1 }
    }

    /// Adds the lines of one read of one container (one lock for all of them) and the HTTP
    /// statuses found in them.
    public func add(pending: [PendingLogLine], statuses: HTTPStatusCounts, container: String, malformedFrames: Int = 0) {
        guard !pending.isEmpty || statuses.total > 0 || malformedFrames > 0 else { return }
        state.withLock { s in
            s.counters.malformedFrames += malformedFrames
            s.counters.logLinesStreamed += pending.count
            if statuses.total > 0 { s.statuses.add(statuses, for: container, limit: Self.maxStatusContainers) }
            s.logs.add(pending, container: container)
        }
    }

    /// The container was removed: its per-container counts go after its last lines are taken.
    public func forget(container: String) {
        state.withLock { $0.logs.forget(container: container) }
    }

    /// Lines streamed and dropped per container (for /metrics), by name.
    public var containerLogCounts: [String: FairLogBuffer.Counts] { state.withLock { $0.logs.counts } }

    public func add(exec: ContainerExec) {
        state.withLock {
            $0.counters.execsSeen += 1
            guard $0.execs.count < Self.maxExecs else { $0.counters.execsDropped += 1; return }
            $0.execs.append(exec)
        }
    }

    /// Takes what goes into the next payload and what the detectors judge for this interval.
    public func drain() -> Batch {
        state.withLock { s in
            var b = Batch()
            let n = min(maxEventsPerPayload, s.events.count)
            b.events = Array(s.events.prefix(n))
            s.events.removeFirst(n)
            let taken = s.logs.take()
            b.logs.reserveCapacity(taken.count)
            for p in taken {
                var masker = SecretMasker(inPrivateKey: p.startsInPrivateKey)
                let r = processor.process(p.line, container: p.container, masker: &masker,
                                          fallbackTimestamp: p.fallbackTimestamp ?? "")
                s.counters.valuesMasked += r.maskedValues
                if r.truncated { s.counters.logLinesTruncated += 1 }
                b.logs.append(r.entry)
            }
            b.observations = Observations(execs: s.execs, httpStatuses: s.statuses)
            s.execs.removeAll()
            s.statuses.removeAll()
            return b
        }
    }
}
