import AgentCore

/// Where the server keeps verified payloads and what the dashboard reads from: SQLite
/// (`PayloadDatabase`, the embedded default) or PostgreSQL (`PostgresStore`, for fleets and
/// several receivers). Every list a read returns is bounded by its `limit`, so a page costs the
/// same however much is stored.
public protocol PayloadStore: Sendable {
    /// Where the data lives, for the log: never a password.
    var location: String { get }
    /// Stores a verified payload and everything in it in one transaction, committed before it
    /// returns. False, and nothing written, for a payload_id already stored (by this receiver or
    /// another one on the same database).
    func insert(_ p: Payload, body: [UInt8], receivedAt: Int64, keyID: String?) async throws -> Bool
    /// Upkeep at start and hourly: removes what is older than `retentionDays` before `now` (and,
    /// where the store partitions by day, makes the partitions of the days ahead).
    func maintain(now: Int64, retentionDays: Int) async throws -> Expiry
    func payloadCount() async throws -> Int
    /// The schema migrations applied, oldest first.
    func appliedMigrations() async throws -> [String]

    /// One row per server id from its newest payload, with its alerts of the last hour.
    func fleet(now: Int64) async throws -> [HostSummary]
    /// Whether any payload from `serverID` is stored.
    func knows(serverID: String) async throws -> Bool
    /// A host's metrics since `since`, oldest first, at most `limit` points (the newest).
    func series(serverID: String, since: Int64, limit: Int) async throws -> [MetricPoint]
    /// Alerts newest first with their detail, filtered by rule and host when given.
    func alerts(rule: String?, serverID: String?, since: Int64, limit: Int) async throws -> [AlertRow]
    /// A host's newest container events and log lines (as the agent masked them), newest first.
    func containerActivity(serverID: String, limit: Int) async throws -> ContainerActivity
}

extension PayloadStore {
    public func series(serverID: String, since: Int64) async throws -> [MetricPoint] {
        try await series(serverID: serverID, since: since, limit: 2_000)
    }

    public func alerts(rule: String? = nil, serverID: String? = nil, since: Int64) async throws -> [AlertRow] {
        try await alerts(rule: rule, serverID: serverID, since: since, limit: 500)
    }

    public func containerActivity(serverID: String) async throws -> ContainerActivity {
        try await containerActivity(serverID: serverID, limit: 100)
    }
}

/// What one upkeep pass removed: payloads deleted row by row, or whole days dropped.
public struct Expiry: Sendable, Equatable {
    public var payloads: Int
    /// Days (`YYYY-MM-DD`) whose partitions were dropped.
    public var days: [String]

    public init(payloads: Int = 0, days: [String] = []) {
        self.payloads = payloads
        self.days = days
    }

    public var isEmpty: Bool { payloads == 0 && days.isEmpty }
}

public struct ContainerActivity: Sendable, Equatable {
    public var events: [ContainerRow]
    public var logs: [ContainerRow]

    public init(events: [ContainerRow], logs: [ContainerRow]) {
        self.events = events
        self.logs = logs
    }
}

/// One host on the fleet page: its newest payload, and the alerts of the last hour.
public struct HostSummary: Sendable, Equatable {
    public var serverID: String
    public var host: String
    public var env: String
    public var ownerTeam: String
    /// When its newest payload arrived (unix seconds).
    public var lastSeen: Int64
    public var cpu: Double?
    public var memory: Double?
    public var disk: Double?
    public var score: Double
    public var alertsLastHour: Int
    /// The keyring key that verified the newest payload (nil: the shared secret).
    public var keyID: String?

    public init(serverID: String, host: String, env: String, ownerTeam: String, lastSeen: Int64, cpu: Double?, memory: Double?,
                disk: Double?, score: Double, alertsLastHour: Int, keyID: String? = nil) {
        self.serverID = serverID; self.host = host; self.env = env; self.ownerTeam = ownerTeam; self.lastSeen = lastSeen
        self.cpu = cpu; self.memory = memory; self.disk = disk; self.score = score; self.alertsLastHour = alertsLastHour
        self.keyID = keyID
    }
}

/// One point of a host's charts.
public struct MetricPoint: Sendable, Equatable {
    public var at: Int64
    public var cpu: Double?
    public var memory: Double?
    public var disk: Double?
    public var rx: Double?
    public var tx: Double?
    public var tcp: Double?

    public init(at: Int64, cpu: Double?, memory: Double?, disk: Double?, rx: Double?, tx: Double?, tcp: Double?) {
        self.at = at; self.cpu = cpu; self.memory = memory; self.disk = disk; self.rx = rx; self.tx = tx; self.tcp = tcp
    }
}

/// One alert as the pages list it: when, where, what, and the detail the agent sent.
public struct AlertRow: Sendable, Equatable {
    public var at: Int64
    public var serverID: String
    public var host: String
    public var rule: String
    public var subject: String?
    public var detail: String?

    public init(at: Int64, serverID: String, host: String, rule: String, subject: String?, detail: String?) {
        self.at = at; self.serverID = serverID; self.host = host; self.rule = rule; self.subject = subject; self.detail = detail
    }
}

/// A container event or log line of a host.
public struct ContainerRow: Sendable, Equatable {
    public var at: Int64
    public var container: String
    public var text: String

    public init(at: Int64, container: String, text: String) {
        self.at = at; self.container = container; self.text = text
    }
}

