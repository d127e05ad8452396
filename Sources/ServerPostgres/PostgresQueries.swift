import PostgresNIO
import ServerStore

/// The dashboard's reads from PostgreSQL. Each filters on `day` as well as on time, so only the
/// partitions of the range are scanned, and on indexed columns of one table.
extension PostgresStore {
    public func fleet(_ query: FleetQuery, now: Int64) async throws -> FleetPage {
        let since = now - 3_600
        let filter = query.needle.map(PostgresText.text)
        // The alerts of the last hour are counted for the page's rows only (an expensive
        // expression in the select list is evaluated after the sort and limit), except when the
        // page is sorted by them.
        let rows = try await client.query("""
            SELECT h.server_id, h.host, h.env, h.owner_team, h.received_at, h.score, h.key_id, h.cpu_usage, h.memory_usage, h.disk_usage,
                   (SELECT count(*) FROM alerts a WHERE a.server_id = h.server_id AND a.day >= \(Self.day(since)) AND a.collected_at >= \(since))
                   AS alerts_hour
            FROM hosts h
            WHERE \(filter)::text IS NULL OR strpos(lower(h.host), \(filter)::text) > 0 OR strpos(lower(h.server_id), \(filter)::text) > 0
               OR strpos(lower(h.env), \(filter)::text) > 0 OR strpos(lower(h.owner_team), \(filter)::text) > 0
            ORDER BY \(unescaped: query.sort.orderBy(descending: query.descending)) LIMIT \(query.limit) OFFSET \(query.offset)
            """, logger: logger)
        var hosts = [HostSummary]()
        for try await r in rows.decode((String, String, String, String, Int64, Double, String?, Double?, Double?, Double?, Int64).self) {
            hosts.append(HostSummary(serverID: r.0, host: r.1, env: r.2, ownerTeam: r.3, lastSeen: r.4, cpu: r.7, memory: r.8, disk: r.9,
                                     score: r.5, alertsLastHour: Int(r.10), keyID: r.6))
        }
        let counts = try await client.query("""
            SELECT count(*), count(*) FILTER (WHERE received_at < \(query.staleBefore)) FROM hosts h
            WHERE \(filter)::text IS NULL OR strpos(lower(h.host), \(filter)::text) > 0 OR strpos(lower(h.server_id), \(filter)::text) > 0
               OR strpos(lower(h.env), \(filter)::text) > 0 OR strpos(lower(h.owner_team), \(filter)::text) > 0
            """, logger: logger)
        for try await (total, stale) in counts.decode((Int64, Int64).self) {
            return FleetPage(hosts: hosts, total: Int(total), stale: Int(stale))
        }
        return FleetPage(hosts: hosts, total: 0, stale: 0)
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
