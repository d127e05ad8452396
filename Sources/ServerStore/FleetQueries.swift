import GRDB

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
}

/// One alert as the pages list it: when, where, what, and the detail the agent sent.
public struct AlertRow: Sendable, Equatable {
    public var at: Int64
    public var serverID: String
    public var host: String
    public var rule: String
    public var subject: String?
    public var detail: String?
}

/// A container event or log line of a host.
public struct ContainerRow: Sendable, Equatable {
    public var at: Int64
    public var container: String
    public var text: String
}

/// The dashboard's reads. Every list is bounded (`limit`), so a page costs the same however
/// much the database holds.
extension PayloadDatabase {
    public func fleet(now: Int64) throws -> [HostSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.server_id, p.host, p.env, p.owner_team, p.received_at, p.score, p.key_id, m.cpu_usage, m.memory_usage, m.disk_usage,
                       (SELECT count(*) FROM alerts a JOIN payloads q ON q.payload_id = a.payload_id
                        WHERE q.server_id = p.server_id AND q.received_at >= ?) AS alerts_hour
                FROM payloads p JOIN metrics m ON m.payload_id = p.payload_id
                WHERE p.received_at = (SELECT max(received_at) FROM payloads WHERE server_id = p.server_id)
                GROUP BY p.server_id ORDER BY p.server_id
                """, arguments: [now - 3_600]).map { r in
                HostSummary(serverID: r["server_id"], host: r["host"], env: r["env"], ownerTeam: r["owner_team"],
                            lastSeen: r["received_at"], cpu: r["cpu_usage"], memory: r["memory_usage"], disk: r["disk_usage"],
                            score: r["score"], alertsLastHour: r["alerts_hour"], keyID: r["key_id"])
            }
        }
    }

    /// Whether any payload from `serverID` is stored.
    public func knows(serverID: String) throws -> Bool {
        try read { try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM payloads WHERE server_id = ?)", arguments: [serverID]) } ?? false
    }

    /// A host's metrics since `since`, oldest first, at most `limit` points (the newest).
    public func series(serverID: String, since: Int64, limit: Int = 2_000) throws -> [MetricPoint] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM (
                    SELECT p.collected_at, m.* FROM payloads p JOIN metrics m ON m.payload_id = p.payload_id
                    WHERE p.server_id = ? AND p.collected_at >= ? ORDER BY p.collected_at DESC LIMIT ?
                ) ORDER BY collected_at
                """, arguments: [serverID, since, limit]).map { r in
                MetricPoint(at: r["collected_at"], cpu: r["cpu_usage"], memory: r["memory_usage"], disk: r["disk_usage"],
                            rx: r["network_rx_bytes_per_sec"], tx: r["network_tx_bytes_per_sec"], tcp: r["tcp_connections"])
            }
        }
    }

    /// Alerts newest first, with their detail, filtered by rule and host when given.
    public func alerts(rule: String? = nil, serverID: String? = nil, since: Int64, limit: Int = 500) throws -> [AlertRow] {
        try read { db in
            // A detail belongs to the alert of the same payload, rule and subject (the source of an
            // auth alert, the container of a shell or 5xx alert, the account of a distributed one).
            try Row.fetchAll(db, sql: """
                SELECT p.collected_at, p.server_id, p.host, a.rule, a.subject,
                       (SELECT d.detail FROM alert_details d WHERE d.payload_id = a.payload_id AND d.rule = a.rule
                          AND (a.subject IS NULL OR d.source = a.subject OR d.container = a.subject
                               OR json_extract(d.detail, '$.user') = a.subject)
                        ORDER BY d.position LIMIT 1) AS detail
                FROM alerts a JOIN payloads p ON p.payload_id = a.payload_id
                WHERE p.collected_at >= ? AND (? IS NULL OR a.rule = ?) AND (? IS NULL OR p.server_id = ?)
                ORDER BY p.collected_at DESC, a.position LIMIT ?
                """, arguments: [since, rule, rule, serverID, serverID, limit]).map { r in
                AlertRow(at: r["collected_at"], serverID: r["server_id"], host: r["host"], rule: r["rule"], subject: r["subject"],
                         detail: r["detail"])
            }
        }
    }

    /// A host's newest container events and log lines (as the agent masked them), newest first.
    public func containerActivity(serverID: String, limit: Int = 100) throws -> (events: [ContainerRow], logs: [ContainerRow]) {
        try read { db in
            let events = try Row.fetchAll(db, sql: """
                SELECT p.collected_at, e.container, e.action FROM container_events e JOIN payloads p ON p.payload_id = e.payload_id
                WHERE p.server_id = ? ORDER BY p.collected_at DESC, e.position DESC LIMIT ?
                """, arguments: [serverID, limit]).map { ContainerRow(at: $0["collected_at"], container: $0["container"], text: $0["action"]) }
            let logs = try Row.fetchAll(db, sql: """
                SELECT p.collected_at, l.container, l.message FROM container_logs l JOIN payloads p ON p.payload_id = l.payload_id
                WHERE p.server_id = ? ORDER BY p.collected_at DESC, l.position DESC LIMIT ?
                """, arguments: [serverID, limit]).map { ContainerRow(at: $0["collected_at"], container: $0["container"], text: $0["message"]) }
            return (events, logs)
        }
    }
}
