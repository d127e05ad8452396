import AgentCore
import PostgresNIO
import ServerStore

/// A batch of payloads as one prepared statement: one round trip and one commit, and the
/// statement parsed and planned once per connection instead of once per batch. Every column is
/// an array bound once (`$n` placeholders, each used wherever its column is needed); the
/// payloads' rows are inserted in key order, skipping ids already stored, and every other table's
/// rows and the hosts' newest state only for the ids that were inserted (data-modifying CTEs see
/// what the first one returned). The rows it returns are the ids it stored.
///
/// Every agent-sent string passes through `PostgresText`; absent numbers are sentinels the SQL
/// turns back into NULL (NaN, -1).
struct BatchInsert: PostgresPreparedStatement {
    typealias Row = String

    static let sql = """
        WITH u AS (
            SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                                 $9::bigint[], $10::float8[], $11::bool[], $12::text[], $13::text[], $14::float8[], $15::float8[],
                                 $16::float8[], $17::float8[], $18::float8[], $19::bigint[])
                AS u(id, day, host, sid, env, team, ver, col, rec, score, sim, key, body, cpu, mem, disk, rx, tx, tcp)
        ), p AS (
            INSERT INTO payloads (payload_id, day, host, server_id, env, owner_team, agent_version, collected_at, received_at,
                                  score, simulated, key_id, body)
            SELECT u.id, u.day, u.host, u.sid, u.env, u.team, u.ver, u.col, u.rec, u.score, u.sim, NULLIF(u.key, ''), u.body::jsonb
            FROM u ORDER BY u.id
            ON CONFLICT DO NOTHING
            RETURNING payload_id
        ), m AS (
            INSERT INTO metrics SELECT u.id, u.day, u.sid, u.col, NULLIF(u.cpu, 'NaN'), NULLIF(u.mem, 'NaN'), NULLIF(u.disk, 'NaN'),
                   NULLIF(u.rx, 'NaN'), NULLIF(u.tx, 'NaN'), NULLIF(u.tcp, -1)
            FROM u WHERE u.id IN (SELECT payload_id FROM p)
        ), a AS (
            INSERT INTO alerts SELECT r.id, r.day, r.pos, r.sid, r.host, r.col, r.rule, NULLIF(r.subject, ''), r.weight
            FROM unnest($20::text[], $21::int[], $22::int[], $23::text[], $24::text[], $25::bigint[], $26::text[], $27::text[],
                        $28::float8[])
                 AS r(id, day, pos, sid, host, col, rule, subject, weight)
            WHERE r.id IN (SELECT payload_id FROM p)
        ), d AS (
            INSERT INTO alert_details SELECT r.id, r.day, r.pos, r.rule, NULLIF(r.source, ''), NULLIF(r.container, ''),
                   NULLIF(r.omitted, -1), r.detail::jsonb
            FROM unnest($29::text[], $30::int[], $31::int[], $32::text[], $33::text[], $34::text[], $35::bigint[], $36::text[])
                 AS r(id, day, pos, rule, source, container, omitted, detail)
            WHERE r.id IN (SELECT payload_id FROM p)
        ), e AS (
            INSERT INTO container_events SELECT r.id, r.day, r.pos, r.sid, r.col, r.type, r.action, r.container, r.image, r.time
            FROM unnest($37::text[], $38::int[], $39::int[], $40::text[], $41::bigint[], $42::text[], $43::text[], $44::text[],
                        $45::text[], $46::text[])
                 AS r(id, day, pos, sid, col, type, action, container, image, time)
            WHERE r.id IN (SELECT payload_id FROM p)
        ), l AS (
            INSERT INTO container_logs SELECT r.id, r.day, r.pos, r.sid, r.col, r.container, r.message, r.time
            FROM unnest($47::text[], $48::int[], $49::int[], $50::text[], $51::bigint[], $52::text[], $53::text[], $54::text[])
                 AS r(id, day, pos, sid, col, container, message, time)
            WHERE r.id IN (SELECT payload_id FROM p)
        ), h AS (
            -- Each host's newest stored payload of the batch, in key order: two receivers updating
            -- the same hosts lock their rows in the same order.
            INSERT INTO hosts (server_id, host, env, owner_team, payload_id, received_at, score, key_id, cpu_usage, memory_usage, disk_usage)
            SELECT DISTINCT ON (u.sid) u.sid, u.host, u.env, u.team, u.id, u.rec, u.score, NULLIF(u.key, ''), NULLIF(u.cpu, 'NaN'),
                   NULLIF(u.mem, 'NaN'), NULLIF(u.disk, 'NaN')
            FROM u WHERE u.id IN (SELECT payload_id FROM p)
            ORDER BY u.sid, u.rec DESC, u.id DESC
            ON CONFLICT (server_id) DO UPDATE SET host = EXCLUDED.host, env = EXCLUDED.env, owner_team = EXCLUDED.owner_team,
                payload_id = EXCLUDED.payload_id, received_at = EXCLUDED.received_at, score = EXCLUDED.score, key_id = EXCLUDED.key_id,
                cpu_usage = EXCLUDED.cpu_usage, memory_usage = EXCLUDED.memory_usage, disk_usage = EXCLUDED.disk_usage
            WHERE hosts.received_at <= EXCLUDED.received_at
        )
        SELECT payload_id FROM p
        """

    private let bindings: PostgresBindings

    /// `items` must have distinct payload ids (the store keeps the first of equal ones).
    init(_ items: [PendingInsert]) {
        let t = PostgresText.self, nan = Double.nan
        var b = PostgresBindings(capacity: 54)
        let m = items.map(\.payload.metrics)
        b.append(items.map { t.text($0.payload.payloadID) })
        b.append(items.map(\.day))
        b.append(items.map { t.text($0.payload.host) })
        b.append(items.map { t.text($0.payload.serverID) })
        b.append(items.map { t.text($0.payload.env) })
        b.append(items.map { t.text($0.payload.ownerTeam) })
        b.append(items.map { t.text($0.payload.agentVersion) })
        b.append(items.map(\.collectedAt))
        b.append(items.map(\.receivedAt))
        b.append(items.map(\.payload.score))
        b.append(items.map { $0.payload.simulated == true })
        b.append(items.map { t.text($0.keyID ?? "") })
        b.append(items.map { t.json($0.body) })
        b.append(m.map { $0.cpuUsage ?? nan })
        b.append(m.map { $0.memoryUsage ?? nan })
        b.append(m.map { $0.diskUsage ?? nan })
        b.append(m.map { $0.networkRxBytesPerSec ?? nan })
        b.append(m.map { $0.networkTxBytesPerSec ?? nan })
        b.append(m.map { Int64($0.tcpConnections ?? -1) })

        var a = Columns(), d = Columns(), e = Columns(), l = Columns()
        for item in items {
            let p = item.payload
            for (i, wire) in p.localAlerts.enumerated() {
                let alert = Alert(wireValue: wire)
                a.row(item, i)
                a.text[0].append(t.text(p.serverID)); a.text[1].append(t.text(p.host))
                a.text[2].append(t.text(alert?.rule.rawValue ?? wire)); a.text[3].append(t.text(alert?.subject ?? ""))
                a.doubles.append(alert?.rule.weight ?? 0)
            }
            for (i, detail) in p.alertsDetail.enumerated() {
                d.row(item, i)
                d.text[0].append(detail.rule.rawValue); d.text[1].append(t.text(detail.source ?? ""))
                d.text[2].append(t.text(detail.container ?? "")); d.text[3].append(t.json(PayloadCoding.encodeDetail(detail)))
                d.ints.append(Int64(detail.omitted ?? -1))
            }
            for (i, ev) in p.dockerEvents.enumerated() {
                e.row(item, i)
                e.text[0].append(t.text(p.serverID)); e.text[1].append(t.text(ev.type)); e.text[2].append(t.text(ev.action))
                e.text[3].append(t.text(ev.container)); e.text[4].append(t.text(ev.image)); e.text[5].append(t.text(ev.timestamp))
            }
            for (i, line) in p.logs.enumerated() {
                l.row(item, i)
                l.text[0].append(t.text(p.serverID)); l.text[1].append(t.text(line.container)); l.text[2].append(t.text(line.message))
                l.text[3].append(t.text(line.timestamp))
            }
        }
        // $20-$28: alerts
        a.key(into: &b); b.append(a.text[0]); b.append(a.text[1]); b.append(a.collected); b.append(a.text[2]); b.append(a.text[3])
        b.append(a.doubles)
        // $29-$36: alert details
        d.key(into: &b); b.append(d.text[0]); b.append(d.text[1]); b.append(d.text[2]); b.append(d.ints); b.append(d.text[3])
        // $37-$46: container events
        e.key(into: &b); b.append(e.text[0]); b.append(e.collected)
        for c in 1...5 { b.append(e.text[c]) }
        // $47-$54: container logs
        l.key(into: &b); b.append(l.text[0]); b.append(l.collected)
        for c in 1...3 { b.append(l.text[c]) }
        bindings = b
    }

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// The column arrays of one child table's rows (ids, days, positions, collected times, and as
/// many text, integer and double columns as the table needs).
struct Columns {
    var ids = [String](), days = [Int32](), positions = [Int32](), collected = [Int64]()
    var text = [[String]](repeating: [], count: 6)
    var ints = [Int64](), doubles = [Double]()

    mutating func row(_ item: PendingInsert, _ position: Int) {
        ids.append(PostgresText.text(item.payload.payloadID))
        days.append(item.day)
        positions.append(Int32(position))
        collected.append(item.collectedAt)
    }

    /// The row's key columns, in the statement's order: payload id, day, position.
    func key(into b: inout PostgresBindings) {
        b.append(ids); b.append(days); b.append(positions)
    }
}
