import Synchronization

/// Counters and last-cycle values shared by the collector, the shipper and the health server.
/// A snapshot is taken under one lock so endpoints never see half an update.
public struct StatusSnapshot: Sendable, Equatable {
    public var startedAtUnix: Int64 = 0
    /// Wall time of the last 2xx, unix seconds.
    public var lastSendOKUnix: Int64?
    /// Payloads waiting to be delivered (buffered, not yet acknowledged).
    public var queueLength: Int = 0
    public var lastMetrics: HostMetrics?
    public var lastAlerts: [String] = []
    public var payloadsBuilt: Int = 0
    public var payloadsSent: Int = 0
    /// Failed attempts by reason (`status_503`, `transport`).
    public var sendFailures: [String: Int] = [:]
    public var retries: Int = 0
    /// Payloads dropped to stay within the queue bounds.
    public var droppedPayloads: Int = 0
    /// Bytes the queue holds (on disk, plus memory when the disk is unavailable).
    public var queueBytes: Int = 0
    /// Queue records found corrupt and skipped (torn writes, garbage lines).
    public var queueCorruptRecords: Int = 0
    /// The disk queue's last error while it is unavailable; nil when it works.
    public var queueError: String?
    /// Our clock minus the server's `Date`, seconds; nil until a response carried a Date.
    public var clockSkewSeconds: Int64?
    /// Payloads the server refused for good (4xx).
    public var rejectedPayloads: Int = 0
    /// Cut to stay within --max-payload-bytes: log lines, events, and alerts summarised.
    public var trimmedLogs: Int = 0
    public var trimmedEvents: Int = 0
    public var summarisedAlerts: Int = 0
    /// Score of the last payload.
    public var lastScore: Double = 0
    /// Every signal source by name: its last duration, errors by code and its own counters.
    public var sources: [String: SourceStatus] = [:]
    /// Seconds the last cycle spent in the detectors.
    public var detectorsDurationSeconds: Double = 0
    /// The Docker Engine connection (`.disabled` when Docker monitoring is off).
    public var docker: DockerActivity.Connection = .disabled

    public init() {}

    /// Adds what the payload budget cut from one payload.
    public mutating func count(_ trim: PayloadTrim) {
        trimmedLogs += trim.logs
        trimmedEvents += trim.events
        summarisedAlerts += trim.alerts
    }
}

public final class AgentStatus: Sendable {
    private let state: Mutex<StatusSnapshot>

    public init(startedAtUnix: Int64) {
        var s = StatusSnapshot()
        s.startedAtUnix = startedAtUnix
        state = Mutex(s)
    }

    public func snapshot() -> StatusSnapshot { state.withLock { $0 } }

    public func update(_ body: (inout StatusSnapshot) -> Void) {
        state.withLock { body(&$0) }
    }
}

/// `GET /healthz` body.
public struct HealthReport: Encodable, Sendable {
    public var uptimeSeconds: Int64
    public var lastSendOK: String?
    public var queueLength: Int
    public var queueBytes: Int
    public var queueDroppedPayloads: Int
    public var queueCorruptRecords: Int
    public var queueError: String?
    public var clockSkewSeconds: Int64?
    public var docker: String
    public var sources: [String: SourceHealth]

    /// One source in /healthz.
    public struct SourceHealth: Encodable, Sendable {
        public var errors: Int
        public var lastDurationSeconds: Double

        init(_ s: SourceStatus) {
            errors = s.errorTotal
            lastDurationSeconds = s.lastDurationSeconds
        }

        enum CodingKeys: String, CodingKey {
            case errors
            case lastDurationSeconds = "last_duration_seconds"
        }
    }

    public init(snapshot: StatusSnapshot, nowUnix: Int64) {
        uptimeSeconds = max(0, nowUnix - snapshot.startedAtUnix)
        lastSendOK = snapshot.lastSendOKUnix.map { RFC3339.format(unixSeconds: $0) }
        queueLength = snapshot.queueLength
        queueBytes = snapshot.queueBytes
        queueDroppedPayloads = snapshot.droppedPayloads
        queueCorruptRecords = snapshot.queueCorruptRecords
        queueError = snapshot.queueError
        clockSkewSeconds = snapshot.clockSkewSeconds
        docker = snapshot.docker.rawValue
        sources = snapshot.sources.mapValues(SourceHealth.init)
    }

    enum CodingKeys: String, CodingKey {
        case uptimeSeconds = "uptime_seconds"
        case lastSendOK = "last_send_ok"
        case queueLength = "queue_length"
        case queueBytes = "queue_bytes"
        case queueDroppedPayloads = "queue_dropped_payloads"
        case queueCorruptRecords = "queue_corrupt_records"
        case queueError = "queue_error"
        case clockSkewSeconds = "clock_skew_seconds"
        case docker
        case sources
    }

    /// Unknown values (`last_send_ok` before the first success, no skew yet, no queue error)
    /// are written as null so the keys are always present.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(lastSendOK, forKey: .lastSendOK)
        try c.encode(queueLength, forKey: .queueLength)
        try c.encode(queueBytes, forKey: .queueBytes)
        try c.encode(queueDroppedPayloads, forKey: .queueDroppedPayloads)
        try c.encode(queueCorruptRecords, forKey: .queueCorruptRecords)
        try c.encode(queueError, forKey: .queueError)
        try c.encode(clockSkewSeconds, forKey: .clockSkewSeconds)
        try c.encode(docker, forKey: .docker)
        try c.encode(sources, forKey: .sources)
    }
}

/// `GET /metrics` JSON body: the last cycle's values.
public struct MetricsReport: Encodable, Sendable {
    /// nil (JSON null) before the first cycle and when the source could not be read.
    public var cpuUsage: Double?
    public var memoryUsage: Double?
    public var localAlerts: [String]

    public init(snapshot: StatusSnapshot) {
        cpuUsage = snapshot.lastMetrics?.cpuUsage
        memoryUsage = snapshot.lastMetrics?.memoryUsage
        localAlerts = snapshot.lastAlerts
    }

    enum CodingKeys: String, CodingKey {
        case cpuUsage = "cpu_usage"
        case memoryUsage = "memory_usage"
        case localAlerts = "local_alerts"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuUsage, forKey: .cpuUsage)
        try c.encode(memoryUsage, forKey: .memoryUsage)
        try c.encode(localAlerts, forKey: .localAlerts)
    }
}

public enum ReportCoding {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }
}
