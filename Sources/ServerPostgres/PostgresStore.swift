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
    private let batcher: InsertBatcher<PendingInsert, Bool>

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

    public func ping() async throws {
        try await reachable { _ = try await client.query("SELECT 1", logger: logger).collect() }
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
        try await batcher.submit(PendingInsert(p, body: body, receivedAt: receivedAt, keyID: keyID))
    }

    /// One statement for a batch (so one round trip and one commit): the payloads' rows are
    /// inserted in key order, skipping ids already stored, and every other table's rows and the
    /// hosts' newest state only for the ids that were inserted (data-modifying CTEs see what the
    /// first one returned). True for each payload stored by it, false for a payload_id already
    /// stored (earlier, by another receiver, or earlier in the same batch).
    func write(_ batch: [PendingInsert]) async throws -> [Bool] {
        do {
            try await ensure(days: Set(batch.map(\.day)))
            // The first of equal ids in a batch is the one written.
            var firstIndex = [String: Int]()
            for (i, item) in batch.enumerated() where firstIndex[item.payload.payloadID] == nil { firstIndex[item.payload.payloadID] = i }
            let unique = firstIndex.values.sorted().map { batch[$0] }
            var stored = Set<String>()
            for try await id in try await client.execute(BatchInsert(unique), logger: logger) { stored.insert(id) }
            return batch.enumerated().map { i, item in firstIndex[item.payload.payloadID] == i && stored.contains(item.payload.payloadID) }
        } catch {
            knownDays.withLock { $0.removeAll() }
            throw StoreError(describing: error)
        }
    }

    /// Runs `body`, turning a connection failure into one line naming the database (no password).
    func reachable<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            throw StoreError("PostgreSQL at \(location): \(StoreError(describing: error).description)")
        }
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

extension PendingInsert {
    /// The day partition the payload's rows go to.
    var day: Int32 { PostgresStore.day(collectedAt) }
}
