import AgentCore
import Logging
import NIOSSL
import PostgresNIO
import ServerStore
import Synchronization

/// The fleet's store in PostgreSQL (postgres-nio): several receivers share one database and each
/// payload is stored once. Inserts are group-committed (`InsertBatcher`): the payloads that arrive
/// while a transaction is being written go together in the next one, each table's rows in one
/// statement (`unnest` of arrays) and the whole batch in one, ordered by key so two receivers'
/// statements cannot deadlock.
/// `run()` runs the connection pool and must run (as a Service) while the store is used.
public final class PostgresStore: PayloadStore {
    public let location: String
    let client: PostgresClient
    let logger: Logger
    /// Days whose partitions this process knows exist; forgotten after any failed write (another
    /// receiver's upkeep may have dropped one).
    private let knownDays = Mutex(Set<Int32>())
    private let batcher: InsertBatcher<Insert, Bool>

    struct Insert: Sendable {
        let payload: Payload
        let body: [UInt8]
        let receivedAt: Int64
        let keyID: String?
        let collectedAt: Int64
        var day: Int32 { PostgresStore.day(collectedAt) }
    }

    /// `writers` transactions in flight at most, each of at most `maxBatch` payloads.
    public init(url: DatabaseURL, writers: Int = 4, maxBatch: Int = 256, logger: Logger) {
        var config = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                  database: url.database, tls: Self.tls(url.tls))
        config.options.maximumConnections = writers + 4
        config.options.connectTimeout = .seconds(10)
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        location = url.redacted
        self.logger = logger
        let box = WeakWriter()
        batcher = InsertBatcher(maxBatch: maxBatch, writers: writers) { batch in
            guard let store = box.store else { throw StoreError("store closed") }
            return try await store.write(batch)
        }
        box.store = self
    }

    static func tls(_ mode: DatabaseURL.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    // MARK: schema

    /// Applies the migrations not yet applied, in one transaction under an advisory lock. A
    /// database that does not answer within `timeout` is an error (the pool would otherwise
    /// retry for ever and the server would sit there not listening).
    public func migrate(timeout: Duration = .seconds(20)) async throws {
        try await reachable {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.applyMigrations() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw StoreError("no connection within \(timeout.components.seconds) s")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }

    private func applyMigrations() async throws {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey - 1))", logger: logger)
            try await conn.query("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                                 logger: logger)
            var applied = Set<String>()
            for try await v in try await conn.query("SELECT version FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(v)
            }
            for m in PostgresSchema.migrations where !applied.contains(m.version) {
                for statement in m.statements { try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await conn.query("INSERT INTO schema_migrations (version) VALUES (\(m.version))", logger: logger)
            }
        }
    }

    public func appliedMigrations() async throws -> [String] {
        var out = [String]()
        for try await v in try await client.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger).decode(String.self) {
            out.append(v)
        }
        return out
    }

    public func payloadCount() async throws -> Int {
        for try await n in try await client.query("SELECT count(*) FROM payloads", logger: logger).decode(Int.self) { return n }
        return 0
    }

    /// Makes the partitions of `day` (idempotent, safe beside other receivers).
    func ensure(days: Set<Int32>) async throws {
        let missing = knownDays.withLock { days.subtracting($0) }
        for d in missing.sorted() {
            try await client.query("SELECT monitoring_ensure_day(\(d))", logger: logger)
            _ = knownDays.withLock { $0.insert(d) }
        }
    }

    // MARK: upkeep

    /// Makes today's and tomorrow's partitions, drops every day that ended before `now` minus the
    /// retention (all six tables, in one transaction), and forgets hosts not heard from since.
    public func maintain(now: Int64, retentionDays: Int) async throws -> Expiry {
        let today = Self.day(now)
        try await ensure(days: [today, today + 1])
        let cutoff = now - Int64(retentionDays) * 86_400
        var old = [(day: Int32, suffix: String)]()
        let parts = try await client.query("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'payloads'::regclass
            """, logger: logger)
        for try await name in parts.decode(String.self) {
            guard let day = Self.day(partition: name), Int64(day + 1) * 86_400 <= cutoff else { continue }
            old.append((day, String(name.dropFirst("payloads_".count))))
        }
        old.sort { $0.day < $1.day }
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
            for (_, suffix) in old {
                for t in PostgresSchema.partitionedTables {
                    try await conn.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(t)_\(suffix)"), logger: logger)
                }
            }
            try await conn.query("DELETE FROM hosts WHERE received_at < \(cutoff)", logger: logger)
        }
        knownDays.withLock { known in for (d, _) in old { known.remove(d) } }
        return Expiry(days: old.map { RFC3339.format(unixSeconds: Int64($0.day) * 86_400).prefix(10).description })
    }

    /// The day (since 1970-01-01, UTC) of a unix time: what partitions rows and what the reads
    /// filter on. Floor division, so a time before 1970 is in a day before day 0.
    static func day(_ unix: Int64) -> Int32 {
        Int32(clamping: unix >= 0 ? unix / 86_400 : (unix - 86_399) / 86_400)
    }

    /// The day of a partition named `TABLE_YYYYMMDD`.
    static func day(partition name: String) -> Int32? {
        let digits = name.suffix(8)
        guard digits.count == 8, digits.allSatisfy(\.isNumber), name.dropLast(8).hasSuffix("_") else { return nil }
        let iso = "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))T00:00:00Z"
        return RFC3339.parse(iso).map(day)
    }

    // MARK: inserts

    public func insert(_ p: Payload, body: [UInt8], receivedAt: Int64, keyID: String?) async throws -> Bool {
        let collected = RFC3339.parse(p.timestamp) ?? receivedAt
        return try await batcher.submit(Insert(payload: p, body: body, receivedAt: receivedAt, keyID: keyID, collectedAt: collected))
    }

    /// One statement for a batch (so one round trip and one commit): the payloads' rows are
    /// inserted in key order, skipping ids already stored, and every other table's rows and the
    /// hosts' newest state only for the ids that were inserted (data-modifying CTEs see what the
    /// first one returned). True for each payload stored by it, false for a payload_id already
    /// stored (earlier, by another receiver, or earlier in the same batch).
    func write(_ batch: [Insert]) async throws -> [Bool] {
        do {
            try await ensure(days: Set(batch.map(\.day)))
            // The first of equal ids in a batch is the one written.
            var firstIndex = [String: Int]()
            for (i, item) in batch.enumerated() where firstIndex[item.payload.payloadID] == nil { firstIndex[item.payload.payloadID] = i }
            let unique = firstIndex.values.sorted().map { batch[$0] }
            var stored = Set<String>()
            for try await id in try await client.query(Self.batchQuery(unique), logger: logger).decode(String.self) { stored.insert(id) }
            return batch.enumerated().map { i, item in firstIndex[item.payload.payloadID] == i && stored.contains(item.payload.payloadID) }
        } catch {
            knownDays.withLock { $0.removeAll() }
            throw StoreError(describing: error)
        }
    }

    /// The batch's statement: every column an array bound once, every agent-sent string through
    /// `PostgresText`, absent numbers as sentinels the SQL turns back into NULL (NaN, -1).
    static func batchQuery(_ items: [Insert]) -> PostgresQuery {
        let t = PostgresText.self, nan = Double.nan
        let sorted = items.sorted { $0.payload.payloadID < $1.payload.payloadID }
        let ids = sorted.map { t.text($0.payload.payloadID) }, days = sorted.map(\.day)
        let hosts = sorted.map { t.text($0.payload.host) }, servers = sorted.map { t.text($0.payload.serverID) }
        let envs = sorted.map { t.text($0.payload.env) }, teams = sorted.map { t.text($0.payload.ownerTeam) }
        let versions = sorted.map { t.text($0.payload.agentVersion) }
        let collected = sorted.map(\.collectedAt), received = sorted.map(\.receivedAt), scores = sorted.map(\.payload.score)
        let simulated = sorted.map { $0.payload.simulated == true }, keys = sorted.map { t.text($0.keyID ?? "") }
        let bodies = sorted.map { t.json($0.body) }
        let m = sorted.map(\.payload.metrics)
        let cpu = m.map { $0.cpuUsage ?? nan }, mem = m.map { $0.memoryUsage ?? nan }, disk = m.map { $0.diskUsage ?? nan }
        let rx = m.map { $0.networkRxBytesPerSec ?? nan }, tx = m.map { $0.networkTxBytesPerSec ?? nan }
        let tcp = m.map { Int64($0.tcpConnections ?? -1) }
        var a = Columns(), d = Columns(), e = Columns(), l = Columns()
        for item in sorted {
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
        // Each host's newest payload of the batch, in key order (two receivers updating the same
        // hosts lock their rows in the same order).
        var newest = [String: Insert]()
        for item in sorted where (newest[item.payload.serverID]?.receivedAt ?? .min) <= item.receivedAt { newest[item.payload.serverID] = item }
        let h = newest.keys.sorted().map { newest[$0]! }
        let hIDs = h.map { t.text($0.payload.payloadID) }, hServers = h.map { t.text($0.payload.serverID) }
        let hNames = h.map { t.text($0.payload.host) }, hEnvs = h.map { t.text($0.payload.env) }, hTeams = h.map { t.text($0.payload.ownerTeam) }
        let hReceived = h.map(\.receivedAt), hScores = h.map(\.payload.score), hKeys = h.map { t.text($0.keyID ?? "") }
        let hCPU = h.map { $0.payload.metrics.cpuUsage ?? nan }, hMem = h.map { $0.payload.metrics.memoryUsage ?? nan }
        let hDisk = h.map { $0.payload.metrics.diskUsage ?? nan }
        return """
            WITH p AS (
                INSERT INTO payloads (payload_id, day, host, server_id, env, owner_team, agent_version, collected_at, received_at,
                                      score, simulated, key_id, body)
                SELECT u.id, u.day, u.host, u.sid, u.env, u.team, u.ver, u.col, u.rec, u.score, u.sim, NULLIF(u.key, ''), u.body::jsonb
                FROM unnest(\(ids)::text[], \(days)::int[], \(hosts)::text[], \(servers)::text[], \(envs)::text[], \(teams)::text[],
                            \(versions)::text[], \(collected)::bigint[], \(received)::bigint[], \(scores)::float8[], \(simulated)::bool[],
                            \(keys)::text[], \(bodies)::text[])
                     AS u(id, day, host, sid, env, team, ver, col, rec, score, sim, key, body)
                ORDER BY u.id
                ON CONFLICT DO NOTHING
                RETURNING payload_id
            ), m AS (
                INSERT INTO metrics SELECT u.id, u.day, u.sid, u.col, NULLIF(u.cpu, 'NaN'), NULLIF(u.mem, 'NaN'), NULLIF(u.disk, 'NaN'),
                       NULLIF(u.rx, 'NaN'), NULLIF(u.tx, 'NaN'), NULLIF(u.tcp, -1)
                FROM unnest(\(ids)::text[], \(days)::int[], \(servers)::text[], \(collected)::bigint[], \(cpu)::float8[], \(mem)::float8[],
                            \(disk)::float8[], \(rx)::float8[], \(tx)::float8[], \(tcp)::bigint[])
                     AS u(id, day, sid, col, cpu, mem, disk, rx, tx, tcp)
                WHERE u.id IN (SELECT payload_id FROM p)
            ), a AS (
                INSERT INTO alerts SELECT u.id, u.day, u.pos, u.sid, u.host, u.col, u.rule, NULLIF(u.subject, ''), u.weight
                FROM unnest(\(a.ids)::text[], \(a.days)::int[], \(a.positions)::int[], \(a.text[0])::text[], \(a.text[1])::text[],
                            \(a.collected)::bigint[], \(a.text[2])::text[], \(a.text[3])::text[], \(a.doubles)::float8[])
                     AS u(id, day, pos, sid, host, col, rule, subject, weight)
                WHERE u.id IN (SELECT payload_id FROM p)
            ), d AS (
                INSERT INTO alert_details SELECT u.id, u.day, u.pos, u.rule, NULLIF(u.source, ''), NULLIF(u.container, ''),
                       NULLIF(u.omitted, -1), u.detail::jsonb
                FROM unnest(\(d.ids)::text[], \(d.days)::int[], \(d.positions)::int[], \(d.text[0])::text[], \(d.text[1])::text[],
                            \(d.text[2])::text[], \(d.ints)::bigint[], \(d.text[3])::text[])
                     AS u(id, day, pos, rule, source, container, omitted, detail)
                WHERE u.id IN (SELECT payload_id FROM p)
            ), e AS (
                INSERT INTO container_events SELECT u.id, u.day, u.pos, u.sid, u.col, u.type, u.action, u.container, u.image, u.time
                FROM unnest(\(e.ids)::text[], \(e.days)::int[], \(e.positions)::int[], \(e.text[0])::text[], \(e.collected)::bigint[],
                            \(e.text[1])::text[], \(e.text[2])::text[], \(e.text[3])::text[], \(e.text[4])::text[], \(e.text[5])::text[])
                     AS u(id, day, pos, sid, col, type, action, container, image, time)
                WHERE u.id IN (SELECT payload_id FROM p)
            ), l AS (
                INSERT INTO container_logs SELECT u.id, u.day, u.pos, u.sid, u.col, u.container, u.message, u.time
                FROM unnest(\(l.ids)::text[], \(l.days)::int[], \(l.positions)::int[], \(l.text[0])::text[], \(l.collected)::bigint[],
                            \(l.text[1])::text[], \(l.text[2])::text[], \(l.text[3])::text[])
                     AS u(id, day, pos, sid, col, container, message, time)
                WHERE u.id IN (SELECT payload_id FROM p)
            ), h AS (
                INSERT INTO hosts (server_id, host, env, owner_team, payload_id, received_at, score, key_id, cpu_usage, memory_usage, disk_usage)
                SELECT u.sid, u.host, u.env, u.team, u.id, u.rec, u.score, NULLIF(u.key, ''), NULLIF(u.cpu, 'NaN'), NULLIF(u.mem, 'NaN'),
                       NULLIF(u.disk, 'NaN')
                FROM unnest(\(hServers)::text[], \(hNames)::text[], \(hEnvs)::text[], \(hTeams)::text[], \(hIDs)::text[], \(hReceived)::bigint[],
                            \(hScores)::float8[], \(hKeys)::text[], \(hCPU)::float8[], \(hMem)::float8[], \(hDisk)::float8[])
                     AS u(sid, host, env, team, id, rec, score, key, cpu, mem, disk)
                WHERE u.id IN (SELECT payload_id FROM p)
                ORDER BY u.sid
                ON CONFLICT (server_id) DO UPDATE SET host = EXCLUDED.host, env = EXCLUDED.env, owner_team = EXCLUDED.owner_team,
                    payload_id = EXCLUDED.payload_id, received_at = EXCLUDED.received_at, score = EXCLUDED.score, key_id = EXCLUDED.key_id,
                    cpu_usage = EXCLUDED.cpu_usage, memory_usage = EXCLUDED.memory_usage, disk_usage = EXCLUDED.disk_usage
                WHERE hosts.received_at <= EXCLUDED.received_at
            )
            SELECT payload_id FROM p
            """
    }

    /// Runs `body`, turning a connection failure into one line naming the database (no password).
    func reachable<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            throw StoreError("PostgreSQL at \(location): \(StoreError(describing: error).description)")
        }
    }
}

/// The column arrays of one child table's rows (ids, days, positions, collected times, and as
/// many text, integer and double columns as the table needs).
struct Columns {
    var ids = [String](), days = [Int32](), positions = [Int32](), collected = [Int64]()
    var text = [[String]](repeating: [], count: 6)
    var ints = [Int64](), doubles = [Double]()

    mutating func row(_ item: PostgresStore.Insert, _ position: Int) {
        ids.append(PostgresText.text(item.payload.payloadID))
        days.append(item.day)
        positions.append(Int32(position))
        collected.append(item.collectedAt)
    }
}

/// Lets the batcher's write closure reach the store without a retain cycle.
final class WeakWriter: @unchecked Sendable {
    weak var store: PostgresStore?
}

/// A store failure as one readable line. postgres-nio's own description hides the server's
/// message (it may quote a query's values); this keeps the SQLSTATE and the server's message,
/// which name the problem and never carry the connection's password.
public struct StoreError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }

    init(describing error: any Error) {
        if let e = error as? StoreError { self = e; return }
        if let e = error as? PSQLError {
            var parts = ["\(e.code)"]
            if let server = e.serverInfo {
                if let state = server[.sqlState] { parts.append("SQLSTATE \(state)") }
                if let message = server[.message] { parts.append(message) }
            }
            if let underlying = e.underlying { parts.append("\(underlying)") }
            self.description = parts.joined(separator: ": ")
        } else {
            self.description = "\(error)"
        }
    }
}
