/// The JSON document sent to the server every interval. Field names follow the v2.0 spec
/// exactly; `payload_id` and `agent_version` are additions that receivers may ignore.
public struct Payload: Codable, Sendable, Equatable {
    /// Unique per payload, unchanged across retries: receivers deduplicate on it.
    public var payloadID: String
    public var agentVersion: String
    public var host: String
    public var serverID: String
    public var env: String
    public var ownerTeam: String
    /// Collection time, RFC 3339 UTC.
    public var timestamp: String
    public var metrics: HostMetrics
    public var dockerEvents: [DockerEvent]
    public var logs: [LogEntry]
    /// Spec form of the alerts: `CPU_SPIKE`, `BRUTE_FORCE:<ip>`, ...
    public var localAlerts: [String]
    /// The container behind each `SHELL_IN_CONTAINER` / `HTTP_5XX_SPIKE` alert (an addition to the spec).
    public var alertsDetail: [AlertDetail]
    /// Sum of the weights of every alert raised: `localAlerts` and those summarised as omitted.
    public var score: Double
    /// true when the alerts come from `--simulate-attack`; absent otherwise.
    public var simulated: Bool?

    enum CodingKeys: String, CodingKey {
        case payloadID = "payload_id"
        case agentVersion = "agent_version"
        case host
        case serverID = "server_id"
        case env
        case ownerTeam = "owner_team"
        case timestamp, metrics
        case dockerEvents = "docker_events"
        case logs
        case localAlerts = "local_alerts"
        case alertsDetail = "alerts_detail"
        case score
        case simulated
    }

    public init(payloadID: String, agentVersion: String, host: String, serverID: String, env: String,
                ownerTeam: String, timestamp: String, metrics: HostMetrics, dockerEvents: [DockerEvent] = [],
                logs: [LogEntry] = [], alerts: [Alert] = [], alertsDetail: [AlertDetail] = [],
                omitted: [AlertRule: Int] = [:], simulated: Bool = false) {
        self.payloadID = payloadID
        self.agentVersion = agentVersion
        self.host = host
        self.serverID = serverID
        self.env = env
        self.ownerTeam = ownerTeam
        self.timestamp = timestamp
        self.metrics = metrics
        self.dockerEvents = dockerEvents
        self.logs = logs
        self.localAlerts = alerts.map(\.wireValue)
        self.alertsDetail = alertsDetail
        // Alerts raised but not listed still weigh: each rule's count is summarised in
        // `alerts_detail` and in the score.
        self.alertsDetail += AlertDetail.summaries(rules: alerts.map(\.rule), listing: alerts.count, earlier: omitted)
        self.score = Alert.score(of: alerts, omitted: omitted)
        self.simulated = simulated ? true : nil
    }
}

extension Payload {
    /// Lenient on the additions: payloads from spec-only agents have no `alerts_detail`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        payloadID = try c.decode(String.self, forKey: .payloadID)
        agentVersion = try c.decode(String.self, forKey: .agentVersion)
        host = try c.decode(String.self, forKey: .host)
        serverID = try c.decode(String.self, forKey: .serverID)
        env = try c.decode(String.self, forKey: .env)
        ownerTeam = try c.decode(String.self, forKey: .ownerTeam)
        timestamp = try c.decode(String.self, forKey: .timestamp)
        metrics = try c.decode(HostMetrics.self, forKey: .metrics)
        dockerEvents = try c.decode([DockerEvent].self, forKey: .dockerEvents)
        logs = try c.decode([LogEntry].self, forKey: .logs)
        localAlerts = try c.decode([String].self, forKey: .localAlerts)
        alertsDetail = try c.decodeIfPresent([AlertDetail].self, forKey: .alertsDetail) ?? []
        score = try c.decode(Double.self, forKey: .score)
        simulated = try c.decodeIfPresent(Bool.self, forKey: .simulated)
    }
}

/// Host metrics of one interval. A metric whose source could not be read (a /proc file that
/// failed to open when descriptors ran out, statvfs refused) is nil and sent as JSON `null`:
/// never a made-up 0, which a receiver would chart and a detector would act on.
public struct HostMetrics: Codable, Sendable, Equatable {
    /// Percent busy over the last interval (from /proc/stat deltas), 0-100.
    public var cpuUsage: Double?
    /// (MemTotal - MemAvailable) / MemTotal, percent.
    public var memoryUsage: Double?
    /// Used percent of the configured filesystem, as `df` computes it.
    public var diskUsage: Double?
    public var networkRxBytesPerSec: Double?
    public var networkTxBytesPerSec: Double?
    /// TCP connections in ESTABLISHED or CLOSE-WAIT, IPv4 and IPv6 (/proc/net/snmp Tcp CurrEstab).
    public var tcpConnections: Int?

    enum CodingKeys: String, CodingKey {
        case cpuUsage = "cpu_usage"
        case memoryUsage = "memory_usage"
        case diskUsage = "disk_usage"
        case networkRxBytesPerSec = "network_rx_bytes_per_sec"
        case networkTxBytesPerSec = "network_tx_bytes_per_sec"
        case tcpConnections = "tcp_connections"
    }

    public init(cpuUsage: Double?, memoryUsage: Double?, diskUsage: Double?,
                networkRxBytesPerSec: Double?, networkTxBytesPerSec: Double?, tcpConnections: Int?) {
        self.cpuUsage = cpuUsage
        self.memoryUsage = memoryUsage
        self.diskUsage = diskUsage
        self.networkRxBytesPerSec = networkRxBytesPerSec
        self.networkTxBytesPerSec = networkTxBytesPerSec
        self.tcpConnections = tcpConnections
    }

    /// Every key is written, an unknown value as `null` (the synthesized form would leave it out).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuUsage, forKey: .cpuUsage)
        try c.encode(memoryUsage, forKey: .memoryUsage)
        try c.encode(diskUsage, forKey: .diskUsage)
        try c.encode(networkRxBytesPerSec, forKey: .networkRxBytesPerSec)
        try c.encode(networkTxBytesPerSec, forKey: .networkTxBytesPerSec)
        try c.encode(tcpConnections, forKey: .tcpConnections)
    }

    /// Rounds to two decimals so payloads stay readable and stable.
    public func rounded() -> HostMetrics {
        func r(_ v: Double?) -> Double? { v.map { ($0 * 100).rounded() / 100 } }
        return HostMetrics(cpuUsage: r(cpuUsage), memoryUsage: r(memoryUsage), diskUsage: r(diskUsage),
                           networkRxBytesPerSec: r(networkRxBytesPerSec), networkTxBytesPerSec: r(networkTxBytesPerSec),
                           tcpConnections: tcpConnections)
    }
}

/// A container event as the spec shows it.
public struct DockerEvent: Codable, Sendable, Equatable {
    public var type: String
    public var action: String
    public var container: String
    public var image: String
    public var timestamp: String

    public init(type: String, action: String, container: String, image: String, timestamp: String) {
        self.type = type
        self.action = action
        self.container = container
        self.image = image
        self.timestamp = timestamp
    }
}

/// One container log line, masked and truncated before it is put here.
public struct LogEntry: Codable, Sendable, Equatable {
    public var container: String
    public var message: String
    public var timestamp: String

    public init(container: String, message: String, timestamp: String) {
        self.container = container
        self.message = message
        self.timestamp = timestamp
    }
}

/// What an alert is about: the payload's `alerts_detail` names the container, source, account
/// and what was seen, for every rule (the spec's `local_alerts` strings carry at most a subject).
public struct AlertDetail: Codable, Sendable, Equatable {
    public var rule: AlertRule
    /// The container behind a shell or 5xx alert; nil in a summary entry.
    public var container: String?
    public var image: String?
    /// The exec's command line, masked (shell alerts).
    public var command: String?
    /// Shell alerts: the exec's user. Auth alerts: the account (logged in, or attacked).
    public var user: String?
    /// 5xx responses and all access-log responses in the interval (5xx alerts).
    public var errors: Int?
    /// 5xx alerts: all access-log responses. Summary entries: every alert of the rule this cycle.
    public var total: Int?
    /// Summary entries: alerts of this rule left out of `local_alerts` to keep the payload
    /// within --max-payload-bytes.
    public var omitted: Int?
    /// Auth alerts: the source address.
    public var source: String?
    /// Auth alerts: failed attempts in the window the alert judged.
    public var failures: Int?
    /// Auth alerts: probes from the source while it was tracked.
    public var probes: Int?
    /// Auth alerts: the window the alert judged, in seconds.
    public var windowSeconds: Int?
    /// Auth alerts: the services the failures came from (`sshd`, PAM services such as `vsftpd`).
    public var services: [String]?
    /// `LOGIN_AFTER_FAILURES`: how the login succeeded.
    public var method: String?
    /// `USER_ENUMERATION`: distinct invalid user names; `DISTRIBUTED_BRUTE_FORCE`: distinct sources.
    public var distinct: Int?
    /// A few of the distinct names or addresses (bounded in count and length).
    public var samples: [String]?

    enum CodingKeys: String, CodingKey {
        case rule, container, image, command, user, errors, total, omitted, source, failures, probes
        case windowSeconds = "window_seconds", services, method, distinct, samples
    }

    public init(rule: AlertRule, container: String? = nil, image: String? = nil, command: String? = nil, user: String? = nil,
                errors: Int? = nil, total: Int? = nil, omitted: Int? = nil) {
        self.rule = rule
        self.container = container
        self.image = image
        self.command = command
        self.user = user
        self.errors = errors
        self.total = total
        self.omitted = omitted
    }

    /// The summary entries of alerts not listed, one per rule in rule order: `rules` are the
    /// rules of the alerts at hand (nil: no known rule), of which the first `listing` are listed;
    /// `earlier` counts per rule those already left out before. Each entry's `total` is every
    /// alert of its rule, listed or not.
    public static func summaries(rules: [AlertRule?], listing: Int, earlier: [AlertRule: Int]) -> [AlertDetail] {
        var omitted = earlier, total = earlier
        for (i, rule) in rules.enumerated() {
            guard let rule else { continue }
            total[rule, default: 0] += 1
            if i >= listing { omitted[rule, default: 0] += 1 }
        }
        return omitted.sorted { $0.key.rawValue < $1.key.rawValue }.compactMap { rule, count in
            count > 0 ? AlertDetail(rule: rule, total: total[rule], omitted: count) : nil
        }
    }

    /// An auth alert's detail.
    public init(auth rule: AlertRule, source: String?, failures: Int? = nil, windowSeconds: Int? = nil, user: String? = nil) {
        self.init(rule: rule, user: user)
        self.source = source
        self.failures = failures
        self.windowSeconds = windowSeconds
    }
}
