import GRDB

/// The dashboard's reads from SQLite. GRDB's async reads run on its reader pool (WAL: they never
/// wait for the writer) and hold no thread of the concurrency pool.
extension PayloadDatabase {
    public func fleet(_ query: FleetQuery, now: Int64) async throws -> FleetPage {
        // Each host's newest payload (by arrival), then the page's filter, order and window.
        // SQLite's lower() folds ASCII letters only.
        let hosts = """
            WITH f AS (
                SELECT p.server_id, p.host, p.env, p.owner_team, p.received_at, p.score, p.key_id, m.cpu_usage, m.memory_usage, m.disk_usage
                FROM payloads p JOIN metrics m ON m.payload_id = p.payload_id
                WHERE p.received_at = (SELECT max(received_at) FROM payloads WHERE server_id = p.server_id)
                GROUP BY p.server_id
            ), matching AS (
                SELECT * FROM f WHERE ?1 IS NULL OR instr(lower(host), ?1) > 0 OR instr(lower(server_id), ?1) > 0
                    OR instr(lower(env), ?1) > 0 OR instr(lower(owner_team), ?1) > 0
            )
            """
        return try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: hosts + """
                SELECT *, (SELECT count(*) FROM alerts a JOIN payloads q ON q.payload_id = a.payload_id
                           WHERE q.server_id = matching.server_id AND q.received_at >= ?2) AS alerts_hour
                FROM matching ORDER BY \(query.sort.orderBy(descending: query.descending)) LIMIT ?3 OFFSET ?4
                """, arguments: [query.needle, now - 3_600, query.limit, query.offset]).map { r in
                HostSummary(serverID: r["server_id"], host: r["host"], env: r["env"], ownerTeam: r["owner_team"],
                            lastSeen: r["received_at"], cpu: r["cpu_usage"], memory: r["memory_usage"], disk: r["disk_usage"],
                            score: r["score"], alertsLastHour: r["alerts_hour"], keyID: r["key_id"])
            }
            let counts = try Row.fetchOne(db, sql: hosts + "SELECT count(*), coalesce(sum(received_at < ?2), 0) FROM matching",
                                          arguments: [query.needle, query.staleBefore])
            return FleetPage(hosts: rows, total: counts?[0] ?? 0, stale: counts?[1] ?? 0)
        }
    }

    public func knows(serverID: String) async throws -> Bool {
        try await pool.read { try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM payloads WHERE server_id = ?)", arguments: [serverID]) } ?? false
    }

    public func series(serverID: String, since: Int64, until: Int64, points: Int) async throws -> [MetricPoint] {
        let span = MetricPoint.span(since: since, until: until, points: points)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT min(p.collected_at) AS at, avg(m.cpu_usage) AS cpu, avg(m.memory_usage) AS memory, avg(m.disk_usage) AS disk,
                       avg(m.network_rx_bytes_per_sec) AS rx, avg(m.network_tx_bytes_per_sec) AS tx, avg(m.tcp_connections) AS tcp,
                       count(*) AS n
                FROM payloads p JOIN metrics m ON m.payload_id = p.payload_id
                WHERE p.server_id = ? AND p.collected_at >= ? AND p.collected_at <= ?
                GROUP BY (p.collected_at - ?) / ? ORDER BY at
                """, arguments: [serverID, since, until, since, span]).map { r in
                MetricPoint(at: r["at"], cpu: r["cpu"], memory: r["memory"], disk: r["disk"], rx: r["rx"], tx: r["tx"], tcp: r["tcp"],
                            payloads: r["n"])
            }
        }
    }

    public func alerts(rule: String?, serverID: String?, since: Int64, limit: Int) async throws -> [AlertRow] {
        try await pool.read { db in
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

    public func containerActivity(serverID: String, limit: Int) async throws -> ContainerActivity {
        try await pool.read { db in
            let events = try Row.fetchAll(db, sql: """
                SELECT p.collected_at, e.container, e.action FROM container_events e JOIN payloads p ON p.payload_id = e.payload_id
                WHERE p.server_id = ? ORDER BY p.collected_at DESC, e.position DESC LIMIT ?
                """, arguments: [serverID, limit]).map { ContainerRow(at: $0["collected_at"], container: $0["container"], text: $0["action"]) }
            let logs = try Row.fetchAll(db, sql: """
                SELECT p.collected_at, l.container, l.message FROM container_logs l JOIN payloads p ON p.payload_id = l.payload_id
                WHERE p.server_id = ? ORDER BY p.collected_at DESC, l.position DESC LIMIT ?
                """, arguments: [serverID, limit]).map { ContainerRow(at: $0["collected_at"], container: $0["container"], text: $0["message"]) }
            return ContainerActivity(events: events, logs: logs)
        }
    }
}
