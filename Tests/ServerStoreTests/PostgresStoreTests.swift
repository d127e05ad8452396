import AgentCore
import Foundation
import ServerPostgres
import ServerStore
import TestSupport
import Testing

/// The PostgreSQL store against a real server (scripts/test.sh starts one): every part of a
/// payload stored once, by one receiver or two racing, day partitions made and dropped whole,
/// and text PostgreSQL refuses made storable without failing the payloads beside it.
@Suite struct PostgresStoreTests {
    func payload(_ n: Int, at unix: Int64, server: String = "srv-1") -> Payload {
        var p = PayloadDatabaseTests.payload(String(format: "00000000-0000-4000-8000-%012d", n), timestamp: RFC3339.format(unixSeconds: unix))
        p.serverID = server
        return p
    }

    func count(_ url: String, _ sql: String) async throws -> Int {
        Int(try await PostgresPeer.psql(url, sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func storesEveryPartOfAPayloadOnceInItsDaysPartition() async throws {
        let url = try await PostgresPeer.freshDatabase("pg_once")
        let (store, runner) = try await StoreKind.postgres(url)
        defer { runner.cancel() }
        #expect(try await store.appliedMigrations() == ["v1", "v2"])
        let now: Int64 = 1_796_100_000
        let p = payload(1, at: now - 30)
        let body = try PayloadCoding.encode(p)
        #expect(try await store.insert(p, body: body, receivedAt: now, keyID: "k2"))
        #expect(try await !store.insert(p, body: body, receivedAt: now + 5, keyID: nil), "a payload_id stored is a duplicate")
        #expect(try await store.payloadCount() == 1)
        let day = "payloads_" + RFC3339.format(unixSeconds: now).prefix(10).replacingOccurrences(of: "-", with: "")
        #expect(try await count(url, "SELECT count(*) FROM \(day)") == 1, "stored in its day's partition")
        for (table, rows) in [("metrics", 1), ("alerts", 2), ("alert_details", 3), ("container_events", 1), ("container_logs", 1), ("hosts", 1)] {
            #expect(try await count(url, "SELECT count(*) FROM \(table)") == rows, "\(table)")
        }
        let row = try await PostgresPeer.psql(url, "SELECT host, env, owner_team, key_id, collected_at, received_at, score, body->>'payload_id' FROM payloads")
        #expect(row.trimmingCharacters(in: .whitespacesAndNewlines) == "web-1|prod|sre|k2|\(now - 30)|\(now)|\(p.score)|\(p.payloadID)")
        let omitted = try await count(url, "SELECT omitted FROM alert_details WHERE position = 2")
        #expect(omitted == 40, "the summary of alerts not listed")
        let fleet = try await store.fleet(now: now)
        #expect(fleet.count == 1 && fleet[0].keyID == "k2" && fleet[0].cpu == 91.5 && fleet[0].alertsLastHour == 2)
    }

    /// Two receivers on one database, every payload given to both at once: each stored once,
    /// the other answer a duplicate, and no transaction deadlocks (rows are written in key order).
    @Test func twoReceiversRacingStoreEachPayloadOnce() async throws {
        let url = try await PostgresPeer.freshDatabase("pg_race")
        let (a, ra) = try await StoreKind.postgres(url)
        let (b, rb) = try await StoreKind.postgres(url)
        defer { ra.cancel(); rb.cancel() }
        let now: Int64 = 1_796_100_000
        let payloads = (0..<300).map { payload($0, at: now - Int64($0 % 7) * 86_400 / 3, server: "srv-\($0 % 25)") }
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for p in payloads.shuffled() {
                let body = try PayloadCoding.encode(p)
                group.addTask { try await a.insert(p, body: body, receivedAt: now, keyID: nil) }
                group.addTask { try await b.insert(p, body: body, receivedAt: now, keyID: nil) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 300 && results.filter { !$0 }.count == 300)
        #expect(try await count(url, "SELECT count(DISTINCT payload_id) FROM payloads") == 300)
        #expect(try await count(url, "SELECT count(*) FROM payloads") == 300)
        #expect(try await count(url, "SELECT count(*) FROM alerts") == 600, "children written once too")
        #expect(try await count(url, "SELECT count(*) FROM hosts") == 25)
    }

    /// Retention drops whole days: every table's partition of a day that ended before the cutoff,
    /// none of a later day; the upkeep also makes today's and tomorrow's partitions.
    @Test func retentionDropsWholeDays() async throws {
        let url = try await PostgresPeer.freshDatabase("pg_retention")
        let (store, runner) = try await StoreKind.postgres(url)
        defer { runner.cancel() }
        let now: Int64 = 1_796_100_000 // 2026-12-01 04:40 UTC
        for (i, age) in [40, 31, 29, 0].enumerated() {
            let p = payload(i, at: now - Int64(age) * 86_400)
            #expect(try await store.insert(p, body: try PayloadCoding.encode(p), receivedAt: now, keyID: nil))
        }
        let gone = try await store.maintain(now: now, retentionDays: 30)
        #expect(gone.days == ["2026-10-22", "2026-10-31"], "\(gone.days)")
        #expect(try await store.payloadCount() == 2)
        let partitions = try await PostgresPeer.psql(url, """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid ORDER BY 1
            """).split(separator: "\n").map(String.init)
        #expect(!partitions.contains { $0.hasSuffix("20261022") || $0.hasSuffix("20261031") })
        for table in ["payloads", "metrics", "alerts", "alert_details", "container_events", "container_logs"] {
            #expect(partitions.contains("\(table)_20261102") && partitions.contains("\(table)_20261201") && partitions.contains("\(table)_20261202"),
                    "\(table): the kept day, today and tomorrow")
        }
        #expect(try await count(url, "SELECT count(*) FROM container_logs") == 2)
        #expect(try await store.maintain(now: now, retentionDays: 30).isEmpty, "a second pass finds nothing")
    }

    /// A NUL in a log line and a \u0000 escape in the body (which `text` and `jsonb` refuse)
    /// become U+FFFD; the payloads written in the same batch are stored too.
    @Test func textPostgresRefusesIsStoredReplaced() async throws {
        let url = try await PostgresPeer.freshDatabase("pg_nul")
        let (store, runner) = try await StoreKind.postgres(url, writers: 1)
        defer { runner.cancel() }
        let now: Int64 = 1_796_100_000
        var hostile = payload(1, at: now)
        hostile.logs = [LogEntry(container: "c\u{0}", message: "a\u{0}b", timestamp: "t")]
        hostile.host = "h\u{0}"
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for p in [hostile] + (2..<20).map({ payload($0, at: now) }) {
                let body = try PayloadCoding.encode(p)
                group.addTask { try await store.insert(p, body: body, receivedAt: now, keyID: nil) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 19))
        let message = try await PostgresPeer.psql(url, "SELECT message FROM container_logs WHERE payload_id = '\(hostile.payloadID)'")
        #expect(message.trimmingCharacters(in: .whitespacesAndNewlines) == "a\u{FFFD}b")
        let body = try await PostgresPeer.psql(url, "SELECT body->>'host' FROM payloads WHERE payload_id = '\(hostile.payloadID)'")
        #expect(body.trimmingCharacters(in: .whitespacesAndNewlines) == "h\u{FFFD}")
    }

    /// An unreachable database is one line naming it, without the password.
    @Test func anUnreachableDatabaseIsNamedWithoutItsPassword() async throws {
        let port = freePort()
        let url = try DatabaseURL.parse("postgres://ops:hunter2-secret@127.0.0.1:\(port)/fleet?sslmode=disable", flag: "database")
        let store = PostgresStore(url: url, logger: .init(label: "t"))
        let runner = Task { await store.run() }
        defer { runner.cancel() }
        do {
            try await store.migrate(timeout: .seconds(3))
            Issue.record("migrate succeeded against nothing")
        } catch {
            let text = "\(error)"
            #expect(text.contains("postgres://ops@127.0.0.1:\(port)/fleet") && text.contains("no connection within 3 s") && !text.contains("hunter2"),
                    "\(text)")
        }
    }
}
