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
    /// The cheapest round trip to the database (`SELECT 1`): whether it answers, for /healthz.
    func ping() async throws
    /// The schema migrations applied, oldest first.
    func appliedMigrations() async throws -> [String]

    /// One page of the fleet: a row per server id from its newest payload, with its alerts of
    /// the last hour, filtered, ordered and cut to the page in the database (the server reads a
    /// page's rows whatever the fleet's size), and how many hosts match in all.
    func fleet(_ query: FleetQuery, now: Int64) async throws -> FleetPage
    /// Whether any payload from `serverID` is stored.
    func knows(serverID: String) async throws -> Bool
    /// A host's metrics from `since` to `until`, oldest first, in at most `points` points: the
    /// range cut into `points` equal spans, each point the averages of the payloads collected in
    /// one span (a chart of 7 days at a 30 s interval is 20,160 payloads; it draws 500 points
    /// that cover the whole week). A span holds at most one payload when they are sparser.
    func series(serverID: String, since: Int64, until: Int64, points: Int) async throws -> [MetricPoint]
    /// Alerts newest first with their detail, filtered by rule and host when given.
    func alerts(rule: String?, serverID: String?, since: Int64, limit: Int) async throws -> [AlertRow]
    /// A host's newest container events and log lines (as the agent masked them), newest first.
    func containerActivity(serverID: String, limit: Int) async throws -> ContainerActivity
}

extension PayloadStore {
    /// Every host (up to 100,000), ordered by host name.
    public func fleet(now: Int64) async throws -> [HostSummary] {
        try await fleet(FleetQuery(limit: 100_000), now: now).hosts
    }

    /// The charts' points: at most 500 over the range.
    public func series(serverID: String, since: Int64, until: Int64) async throws -> [MetricPoint] {
        try await series(serverID: serverID, since: since, until: until, points: 500)
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

/// What the fleet page asks for: the hosts whose host name, server id, env or team contains
/// `filter` (ignoring case), ordered by `sort` (then by host and server id), `limit` of them
/// from `offset`. Hosts whose newest payload arrived before `staleBefore` are counted as stale.
public struct FleetQuery: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable {
        case host, env, team, seen, cpu, memory, disk, score, alerts, key

        /// The ORDER BY terms over the fleet's columns (both stores name them alike). Only these
        /// fixed texts reach the SQL; an unknown metric sorts as -1 (below every real value).
        public func orderBy(descending: Bool) -> String {
            let terms: [String] = switch self {
            case .host: ["host"]
            case .env: ["env", "host"]
            case .team: ["owner_team", "host"]
            case .seen: ["received_at"]
            case .cpu: ["coalesce(cpu_usage, -1)"]
            case .memory: ["coalesce(memory_usage, -1)"]
            case .disk: ["coalesce(disk_usage, -1)"]
            case .score: ["score"]
            case .alerts: ["alerts_hour"]
            case .key: ["coalesce(key_id, '')", "host"]
            }
            return (terms + ["server_id"]).map { $0 + (descending ? " DESC" : " ASC") }.joined(separator: ", ")
        }
    }

    /// As typed (nil when empty).
    public var filter: String?
    public var sort: Sort
    public var descending: Bool
    public var offset: Int
    public var limit: Int
    public var staleBefore: Int64

    public init(filter: String? = nil, sort: Sort = .host, descending: Bool = false, offset: Int = 0, limit: Int = 100,
                staleBefore: Int64 = .min) {
        self.filter = filter.flatMap { $0.isEmpty ? nil : $0 }
        self.sort = sort; self.descending = descending
        self.offset = max(0, offset); self.limit = max(0, limit); self.staleBefore = staleBefore
    }

    /// The filter as the stores compare it (with the columns lowercased).
    public var needle: String? { filter?.lowercased() }
}

/// One page of the fleet, and the counts over every page.
public struct FleetPage: Sendable, Equatable {
    public var hosts: [HostSummary]
    /// Hosts matching the filter.
    public var total: Int
    /// Of those, hosts whose newest payload arrived before the query's `staleBefore`.
    public var stale: Int

    public init(hosts: [HostSummary], total: Int, stale: Int) {
        self.hosts = hosts; self.total = total; self.stale = stale
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

/// One point of a host's charts: the averages of the payloads of one span of the range.
public struct MetricPoint: Sendable, Equatable {
    /// When the span's first payload was collected.
    public var at: Int64
    public var cpu: Double?
    public var memory: Double?
    public var disk: Double?
    public var rx: Double?
    public var tx: Double?
    public var tcp: Double?
    /// Payloads averaged into the point.
    public var payloads: Int

    public init(at: Int64, cpu: Double?, memory: Double?, disk: Double?, rx: Double?, tx: Double?, tcp: Double?, payloads: Int = 1) {
        self.at = at; self.cpu = cpu; self.memory = memory; self.disk = disk; self.rx = rx; self.tx = tx; self.tcp = tcp
        self.payloads = payloads
    }

    /// The width of each span when `since...until` is cut into `points` (at least 1 s).
    public static func span(since: Int64, until: Int64, points: Int) -> Int64 {
        let range = max(0, until - since) + 1
        let n = Int64(max(1, points))
        return max(1, (range + n - 1) / n)
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

