import PostgresNIO
import ServerStore

/// The dashboard's reads from PostgreSQL. Each filters on `day` as well as on time, so only the
/// partitions of the range are scanned, and on indexed columns of one table.
extension PostgresStore {
    public func fleet(_ query: FleetQuery, now: Int64) async throws -> FleetPage {
        let since = now - 3_600
        let filter = query.needle.map(PostgresText.text)
        let order = query.sort.orderBy(descending: query.descending)
        // Alerts of the last hour (only the partitions of its days are read); `a` qualifies the columns.
        func recent(_ a: String = "") -> String { "\(a)day >= \(Self.day(since)) AND \(a)collected_at >= \(since)" }
        let window = "ORDER BY \(order) LIMIT \(query.limit) OFFSET \(query.offset)"
        // The alerts of the last hour are counted for the page's rows only (a count per host
        // skipped by the offset would cost an index probe each), except when the page is sorted
        // by them: then they are counted once, grouped, for every host. The counts row comes
        // with the page's rows (and alone for a page past the end).
        let sortedByAlerts = query.sort == .alerts
        let page = sortedByAlerts
            ? "SELECT f.*, coalesce(a.n, 0) AS alerts_hour FROM f LEFT JOIN (SELECT server_id, count(*) AS n FROM alerts WHERE \(recent()) GROUP BY server_id) a USING (server_id) \(window)"
            : "SELECT * FROM f \(window)"
        let alertsColumn = sortedByAlerts ? "p.alerts_hour" : "(SELECT count(*) FROM alerts a WHERE a.server_id = p.server_id AND \(recent("a.")))"
        let rows = try await client.query("""
            WITH f AS NOT MATERIALIZED (
                SELECT server_id, host, env, owner_team, received_at, score, key_id, cpu_usage, memory_usage, disk_usage FROM hosts h
                WHERE \(filter)::text IS NULL OR strpos(lower(h.host), \(filter)::text) > 0 OR strpos(lower(h.server_id), \(filter)::text) > 0
                   OR strpos(lower(h.env), \(filter)::text) > 0 OR strpos(lower(h.owner_team), \(filter)::text) > 0
            ), c AS (
                SELECT count(*) AS total, count(*) FILTER (WHERE received_at < \(query.staleBefore)) AS stale FROM f
            ), p AS (\(unescaped: page))
            SELECT c.total, c.stale, p.server_id, p.host, p.env, p.owner_team, p.received_at, p.score, p.key_id, p.cpu_usage,
                   p.memory_usage, p.disk_usage, \(unescaped: alertsColumn) AS alerts_hour
            FROM c LEFT JOIN p ON true ORDER BY \(unescaped: order)
            """, logger: logger)
        var out = FleetPage(hosts: [], total: 0, stale: 0)
        for try await r in rows.decode((Int64, Int64, String?, String?, String?, String?, Int64?, Double?, String?, Double?, Double?, Double?,
                                        Int64?).self) {
            out.total = Int(r.0); out.stale = Int(r.1)
            guard let id = r.2, let host = r.3, let env = r.4, let team = r.5, let seen = r.6, let score = r.7 else { continue }
            out.hosts.append(HostSummary(serverID: id, host: host, env: env, ownerTeam: team, lastSeen: seen, cpu: r.9, memory: r.10,
                                         disk: r.11, score: score, alertsLastHour: Int(r.12 ?? 0), keyID: r.8))
        }
        return out
    }

    public func knows(serverID: String) async throws -> Bool {
        for try await b in try await client.query("SELECT EXISTS (SELECT 1 FROM hosts WHERE server_id = \(serverID))", logger: logger)
            .decode(Bool.self) { return b }
        return false
    }

    public func series(serverID: String, since: Int64, until: Int64, points: Int) async throws -> [MetricPoint] {
        let span = MetricPoint.span(since: since, until: until, points: points)
        let rows = try await client.query("""
            SELECT min(collected_at), avg(cpu_usage), avg(memory_usage), avg(disk_usage), avg(network_rx_bytes_per_sec),
                   avg(network_tx_bytes_per_sec), avg(tcp_connections)::float8, count(*)
            FROM metrics WHERE server_id = \(serverID) AND day >= \(Self.day(since)) AND day <= \(Self.day(until))
              AND collected_at >= \(since) AND collected_at <= \(until)
            GROUP BY (collected_at - \(since)) / \(span) ORDER BY 1
            """, logger: logger)
        var out = [MetricPoint]()
        for try await r in rows.decode((Int64, Double?, Double?, Double?, Double?, Double?, Double?, Int64).self) {
            out.append(MetricPoint(at: r.0, cpu: r.1, memory: r.2, disk: r.3, rx: r.4, tx: r.5, tcp: r.6, payloads: Int(r.7)))
        }
        return out
    }

    public func alerts(rule: String?, serverID: String?, since: Int64, limit: Int) async throws -> [AlertRow] {
        // A detail belongs to the alert of the same payload, rule and subject (the source of an
        // auth alert, the container of a shell or 5xx alert, the account of a distributed one).
        let rows = try await client.query("""
            SELECT a.collected_at, a.server_id, a.host, a.rule, a.subject,
                   (SELECT d.detail::text FROM alert_details d WHERE d.payload_id = a.payload_id AND d.day = a.day AND d.rule = a.rule
                      AND (a.subject IS NULL OR d.source = a.subject OR d.container = a.subject OR d.detail->>'user' = a.subject)
                    ORDER BY d.position LIMIT 1)
            FROM alerts a
            WHERE a.day >= \(Self.day(since)) AND a.collected_at >= \(since)
              AND (\(rule)::text IS NULL OR a.rule = \(rule)::text) AND (\(serverID)::text IS NULL OR a.server_id = \(serverID)::text)
            ORDER BY a.collected_at DESC, a.position LIMIT \(limit)
            """, logger: logger)
        var out = [AlertRow]()
        for try await r in rows.decode((Int64, String, String, String, String?, String?).self) {
            out.append(AlertRow(at: r.0, serverID: r.1, host: r.2, rule: r.3, subject: r.4, detail: r.5))
        }
        return out
    }

    public func containerActivity(serverID: String, limit: Int) async throws -> ContainerActivity {
        var events = [ContainerRow](), logs = [ContainerRow]()
        let e = try await client.query("""
            SELECT collected_at, container, action FROM container_events WHERE server_id = \(serverID)
            ORDER BY collected_at DESC, position DESC LIMIT \(limit)
            """, logger: logger)
        for try await r in e.decode((Int64, String, String).self) { events.append(ContainerRow(at: r.0, container: r.1, text: r.2)) }
        let l = try await client.query("""
            SELECT collected_at, container, message FROM container_logs WHERE server_id = \(serverID)
            ORDER BY collected_at DESC, position DESC LIMIT \(limit)
            """, logger: logger)
        for try await r in l.decode((Int64, String, String).self) { logs.append(ContainerRow(at: r.0, container: r.1, text: r.2)) }
        return ContainerActivity(events: events, logs: logs)
    }
}
