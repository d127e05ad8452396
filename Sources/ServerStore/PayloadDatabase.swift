import AgentCore
import AgentServer
import Foundation
import GRDB

/// The server's store: SQLite through GRDB, in WAL mode so readers (the dashboard) never wait for
/// the writer. Every verified payload is written whole or not at all: its row (identity, times,
/// score, the body as received), its metrics, alerts, alert details, container events and log
/// lines. A payload_id already stored is a duplicate and nothing is written; the receiver answers
/// 200 only after the commit. Inserts are group-committed (`InsertBatcher`, one writer as SQLite
/// has one): payloads arriving while a transaction is written share the next one and its fsync;
/// a batch that fails is written again one payload at a time, so one payload fails alone. The
/// schema is versioned by GRDB's migrator, applied at open.
public final class PayloadDatabase: PayloadStore {
    public let path: String
    let pool: DatabasePool
    private let batcher: InsertBatcher<PendingInsert, Bool>

    /// At most `maxBatch` payloads in one transaction.
    public init(path: String, maxBatch: Int = 256) throws {
        self.path = path
        var config = Configuration()
        // Foreign keys carry retention's deletes from a payload to its rows.
        config.foreignKeysEnabled = true
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
        self.pool = pool
        batcher = InsertBatcher(maxBatch: maxBatch, writers: 1) { batch in
            try await pool.write { db in try batch.map { try Self.insert($0, into: db) } }
        }
    }

    /// The schema, one migration per version; a database of an older version is brought up to
    /// date at open, one of a newer version is refused by GRDB.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE payloads (
                    payload_id TEXT PRIMARY KEY NOT NULL,
                    host TEXT NOT NULL,
                    server_id TEXT NOT NULL,
                    env TEXT NOT NULL,
                    owner_team TEXT NOT NULL,
                    agent_version TEXT NOT NULL,
                    collected_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    score REAL NOT NULL,
                    simulated INTEGER NOT NULL,
                    body BLOB NOT NULL
                );
                CREATE INDEX payloads_by_host ON payloads(server_id, collected_at);
                CREATE INDEX payloads_by_received ON payloads(received_at);
                CREATE TABLE metrics (
                    payload_id TEXT PRIMARY KEY NOT NULL REFERENCES payloads(payload_id) ON DELETE CASCADE,
                    cpu_usage REAL, memory_usage REAL, disk_usage REAL,
                    network_rx_bytes_per_sec REAL, network_tx_bytes_per_sec REAL, tcp_connections INTEGER
                );
                CREATE TABLE alerts (
                    payload_id TEXT NOT NULL REFERENCES payloads(payload_id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    subject TEXT,
                    weight REAL NOT NULL,
                    PRIMARY KEY (payload_id, position)
                );
                CREATE INDEX alerts_by_rule ON alerts(rule);
                CREATE TABLE alert_details (
                    payload_id TEXT NOT NULL REFERENCES payloads(payload_id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    source TEXT,
                    container TEXT,
                    omitted INTEGER,
                    detail TEXT NOT NULL,
                    PRIMARY KEY (payload_id, position)
                );
                CREATE TABLE container_events (
                    payload_id TEXT NOT NULL REFERENCES payloads(payload_id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    type TEXT NOT NULL, action TEXT NOT NULL, container TEXT NOT NULL, image TEXT NOT NULL, time TEXT NOT NULL,
                    PRIMARY KEY (payload_id, position)
                );
                CREATE TABLE container_logs (
                    payload_id TEXT NOT NULL REFERENCES payloads(payload_id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    container TEXT NOT NULL, message TEXT NOT NULL, time TEXT NOT NULL,
                    PRIMARY KEY (payload_id, position)
                );
                """)
        }
        // The fleet page finds each host's newest payload by arrival.
        m.registerMigration("v2") { db in
            try db.execute(sql: "CREATE INDEX payloads_by_host_received ON payloads(server_id, received_at)")
        }
        // Which key verified each payload: during a rotation, the hosts still on the old key.
        m.registerMigration("v3") { db in
            try db.execute(sql: "ALTER TABLE payloads ADD COLUMN key_id TEXT")
        }
        return m
    }

    public var location: String { path }

    public func appliedMigrations() async throws -> [String] {
        try await pool.read { try Self.migrator.appliedIdentifiers($0) }.sorted()
    }

    /// Stores a verified payload and everything in it, committed before it returns. Returns false
    /// (and writes nothing) for a payload_id already stored. Awaits GRDB's writer queue: the
    /// commit's fsync never blocks a thread of the concurrency pool.
    public func insert(_ p: Payload, body: [UInt8], receivedAt: Int64, keyID: String? = nil) async throws -> Bool {
        try await batcher.submit(PendingInsert(p, body: body, receivedAt: receivedAt, keyID: keyID))
    }

    /// One payload's rows, inside the caller's transaction; false for a payload_id already stored
    /// (in an earlier transaction or earlier in this one).
    static func insert(_ item: PendingInsert, into db: Database) throws -> Bool {
        let p = item.payload
        try db.cachedStatement(sql: """
            INSERT INTO payloads (payload_id, host, server_id, env, owner_team, agent_version, collected_at, received_at, score, simulated, body, key_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(payload_id) DO NOTHING
            """).execute(arguments: [p.payloadID, p.host, p.serverID, p.env, p.ownerTeam, p.agentVersion, item.collectedAt, item.receivedAt,
                             p.score, p.simulated == true, Data(item.body), item.keyID])
        guard db.changesCount == 1 else { return false }
        let m = p.metrics
        try db.cachedStatement(sql: "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)").execute(arguments: [p.payloadID, m.cpuUsage, m.memoryUsage, m.diskUsage, m.networkRxBytesPerSec,
                             m.networkTxBytesPerSec, m.tcpConnections])
        for (i, wire) in p.localAlerts.enumerated() {
            let alert = Alert(wireValue: wire)
            try db.cachedStatement(sql: "INSERT INTO alerts VALUES (?, ?, ?, ?, ?)").execute(
                           arguments: [p.payloadID, i, alert?.rule.rawValue ?? wire, alert?.subject, alert?.rule.weight ?? 0])
        }
        for (i, d) in p.alertsDetail.enumerated() {
            let json = String(decoding: PayloadCoding.encodeDetail(d), as: UTF8.self)
            try db.cachedStatement(sql: "INSERT INTO alert_details VALUES (?, ?, ?, ?, ?, ?, ?)").execute(
                           arguments: [p.payloadID, i, d.rule.rawValue, d.source, d.container, d.omitted, json])
        }
        for (i, e) in p.dockerEvents.enumerated() {
            try db.cachedStatement(sql: "INSERT INTO container_events VALUES (?, ?, ?, ?, ?, ?, ?)").execute(
                           arguments: [p.payloadID, i, e.type, e.action, e.container, e.image, e.timestamp])
        }
        for (i, l) in p.logs.enumerated() {
            try db.cachedStatement(sql: "INSERT INTO container_logs VALUES (?, ?, ?, ?, ?)").execute(
                           arguments: [p.payloadID, i, l.container, l.message, l.timestamp])
        }
        return true
    }

    /// Deletes the payloads received before `cutoff` (unix seconds) and, through the foreign
    /// keys, every row stored from them. Returns how many payloads went.
    @discardableResult
    public func deleteReceived(before cutoff: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM payloads WHERE received_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Retention in SQLite: a delete of the payloads received before the cutoff, their rows
    /// following through the foreign keys.
    public func maintain(now: Int64, retentionDays: Int) async throws -> Expiry {
        Expiry(payloads: try await deleteReceived(before: now - Int64(retentionDays) * 86_400))
    }

    public func payloadCount() async throws -> Int {
        try await pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM payloads") ?? 0 }
    }

    public func ping() async throws {
        try await pool.read { try $0.execute(sql: "SELECT 1") }
    }

    /// Reads with SQL (tests, the dashboard's queries).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }
}
