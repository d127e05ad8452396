import AgentCore
import AgentServer
import Foundation
import ServerStore
import Synchronization
import TestSupport
import Testing

/// The stores' pure parts: group commit, the database URL, text PostgreSQL refuses, the sink's
/// time window.
@Suite struct StorePartsTests {
    /// Items submitted while a batch is being written go together in the next one; a lone item
    /// is written at once.
    @Test func submissionsDuringAWriteShareTheNextBatch() async throws {
        let sizes = Mutex([Int]())
        let batcher = InsertBatcher<Int, Int>(maxBatch: 50, writers: 1) { items in
            sizes.withLock { $0.append(items.count) }
            try await Task.sleep(for: .milliseconds(30))
            return items.map { $0 * 2 }
        }
        #expect(try await batcher.submit(1) == 2)
        let out = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<120 { group.addTask { try await batcher.submit(i) } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(out.sorted() == (0..<120).map { $0 * 2 }, "each caller gets its own outcome")
        let seen = sizes.withLock { $0 }
        #expect(seen.first == 1 && seen.dropFirst().reduce(0, +) == 120)
        #expect(seen.count <= 8 && seen.allSatisfy { $0 <= 50 }, "batched, never above the maximum: \(seen)")
    }

    /// A batch the store refuses is written again item by item: only the bad one fails.
    @Test func aRefusedBatchFailsOnlyTheBadItem() async throws {
        struct Bad: Error {}
        let batcher = InsertBatcher<Int, Bool>(maxBatch: 100, writers: 2) { items in
            try await Task.sleep(for: .milliseconds(5))
            if items.contains(13) { throw Bad() }
            return items.map { _ in true }
        }
        let outcomes = await withTaskGroup(of: (Int, Bool?).self) { group in
            for i in 0..<40 { group.addTask { (i, try? await batcher.submit(i)) } }
            return await group.reduce(into: [Int: Bool?]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[13] == .some(nil), "the bad item failed")
        #expect(outcomes.filter { $0.key != 13 }.allSatisfy { $0.value == true }, "every other item stored")
    }

    @Test func databaseURLsParseAndNeverShowTheirPassword() throws {
        let u = try DatabaseURL.parse("postgresql://ops:p%40ss%3Aw0rd@db.internal:6432/fleet?sslmode=require", flag: "database")
        #expect(u.user == "ops" && u.password == "p@ss:w0rd" && u.host == "db.internal" && u.port == 6432 && u.database == "fleet" && u.tls == .require)
        #expect(u.redacted == "postgres://ops@db.internal:6432/fleet?sslmode=require")
        let env = try DatabaseURL.parse("postgres://ops@[::1]/fleet", flag: "database", passwordFromEnvironment: "from-env")
        #expect(env.password == "from-env" && env.host == "::1" && env.port == 5432 && env.tls == .prefer)
        #expect(env.redacted == "postgres://ops@[::1]:5432/fleet?sslmode=prefer")
        for bad in ["mysql://a@b/c", "postgres://secret-pw@host", "postgres://host/db", "postgres://u:secret-pw@h:99999/d",
                    "postgres://u:secret-pw@h/d?sslmode=maybe", "postgres://u:secret-pw@h/d?password=x", "postgres://u:secret%zz@h/d",
                    "postgres://u:secret-pw@/d", "postgres://u:secret-pw@h/"] {
            #expect(throws: ConfigError.self, "\(bad)") { try DatabaseURL.parse(bad, flag: "database") }
            do { _ = try DatabaseURL.parse(bad, flag: "database") } catch {
                #expect(error.description.hasPrefix("--database: ") && !error.description.contains("secret"), "\(error)")
            }
        }
    }

    @Test func textPostgresRefusesBecomesReplacementCharacters() {
        #expect(PostgresText.text("a\u{0}b\u{0}") == "a\u{FFFD}b\u{FFFD}" && PostgresText.text("plain") == "plain")
        func json(_ s: String) -> String { PostgresText.json(Array(s.utf8)) }
        #expect(json(#"{"m":"a\u0000b"}"#) == #"{"m":"a\ufffdb"}"#)
        #expect(json(#"{"m":"\\u0000"}"#) == #"{"m":"\\u0000"}"#, "an escaped backslash then text is kept")
        #expect(json(#"{"m":"\ud83d\ude00 \ud83d x \ude00 \u00e9"}"#) == #"{"m":"\ud83d\ude00 \ufffd x \ufffd \u00e9"}"#, "pairs kept, lone halves replaced")
        #expect(json(#"{"m":"end\ud83d"}"#) == #"{"m":"end\ufffd"}"#)
    }

    /// The sink bounds a payload's own time before a store sees it: older than the retention is
    /// expired (200, not stored), more than a day ahead is refused.
    @Test(arguments: StoreKind.allCases)
    func theSinkBoundsAPayloadsTime(_ kind: StoreKind) async throws {
        let open = try await kind.open("sink")
        defer { open.close() }
        let now: Int64 = 1_796_100_000
        let sink = DatabaseSink(store: open.store, retentionDays: 30, wallClock: { now })
        func result(_ n: Int, at unix: Int64) async throws -> SinkResult {
            let p = PayloadDatabaseTests.payload(String(format: "00000000-0000-4000-8000-%012d", n), timestamp: RFC3339.format(unixSeconds: unix))
            return try await sink.accept(p, body: try PayloadCoding.encode(p), keyID: nil)
        }
        #expect(try await result(1, at: now - 31 * 86_400) == .expired)
        #expect(try await result(2, at: now + 2 * 86_400) == .refused(status: 422, reason: "timestamp more than a day ahead of the server's clock"))
        #expect(try await result(3, at: now - 29 * 86_400) == .stored)
        #expect(try await result(3, at: now - 29 * 86_400) == .duplicate)
        #expect(try await result(4, at: now + 3_600) == .stored, "a little ahead is a clock's drift, kept")
        #expect(try await open.store.payloadCount() == 2)
    }
}
