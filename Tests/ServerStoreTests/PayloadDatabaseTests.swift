import AgentCore
import Foundation
import GRDB
@testable import ServerStore
import Synchronization
import TestSupport
import Testing

/// The server's SQLite store: every part of a payload in its table, each payload_id once,
/// across reopening, and retention that takes a payload's rows with it.
@Suite struct PayloadDatabaseTests {
    static func payload(_ id: String, timestamp: String = "2026-11-30T10:00:00Z") -> Payload {
        var brute = AlertDetail(auth: .bruteForce, source: "203.0.113.9", failures: 12, windowSeconds: 60)
        brute.services = ["sshd"]
        return Payload(payloadID: id, agentVersion: "0.1.0", host: "web-1", serverID: "srv-1", env: "prod", ownerTeam: "sre",
                       timestamp: timestamp,
                       metrics: HostMetrics(cpuUsage: 91.5, memoryUsage: 40.25, diskUsage: 70, networkRxBytesPerSec: 1200,
                                            networkTxBytesPerSec: 300, tcpConnections: 17),
                       dockerEvents: [DockerEvent(type: "container", action: "exec_start: sh", container: "api", image: "nginx", timestamp: "2026-11-30T09:59:58Z")],
                       logs: [LogEntry(container: "api", message: "GET / 500 password=[MASKED]", timestamp: "2026-11-30T09:59:59Z")],
                       alerts: [Alert(.cpuSpike), Alert(.bruteForce, subject: "203.0.113.9")],
                       alertsDetail: [AlertDetail(rule: .cpuSpike), brute],
                       omitted: [.bruteForce: 40])
    }

    func open(_ dir: String) throws -> PayloadDatabase {
        try PayloadDatabase(path: dir + "/monitoring.sqlite")
    }

    @Test func storesEveryPartOfAPayloadOnce() async throws {
        let dir = Paths.tempDir("db")
        let db = try open(dir)
        #expect(try await db.appliedMigrations() == ["v1", "v2", "v3"])
        let p = Self.payload("00000000-0000-4000-8000-00000000db01")
        let body = try PayloadCoding.encode(p)
        #expect(try await db.insert(p, body: body, receivedAt: 1_796_100_000))
        #expect(try await !db.insert(p, body: body, receivedAt: 1_796_100_005), "a payload_id stored is a duplicate")
        let row = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT * FROM payloads") })
        let identity: [String] = ["host", "server_id", "env", "owner_team"].map { row[$0] as String }
        #expect(identity == ["web-1", "srv-1", "prod", "sre"])
        let collected: Int64 = row["collected_at"], received: Int64 = row["received_at"], score: Double = row["score"]
        #expect(collected == RFC3339.parse("2026-11-30T10:00:00Z") && received == 1_796_100_000)
        #expect(score == p.score && p.score == 0.4 + 41 * 0.5)
        let stored: Data = row["body"]
        #expect(stored == Data(body), "the body as verified")
        let metrics = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT * FROM metrics") })
        let cpu: Double = metrics["cpu_usage"], tcp: Int = metrics["tcp_connections"], rx: Double = metrics["network_rx_bytes_per_sec"]
        #expect(cpu == 91.5 && tcp == 17 && rx == 1200)
        let alerts = try db.read { try Row.fetchAll($0, sql: "SELECT rule, subject, weight FROM alerts ORDER BY position") }
        #expect(alerts.map { $0["rule"] as String } == ["CPU_SPIKE", "BRUTE_FORCE"])
        let subjects: [String?] = alerts.map { $0["subject"] }, weights: [Double] = alerts.map { $0["weight"] }
        #expect(subjects == [nil, "203.0.113.9"] && weights == [0.4, 0.5])
        let details = try db.read { try Row.fetchAll($0, sql: "SELECT rule, source, omitted, detail FROM alert_details ORDER BY position") }
        let source: String? = details.count == 3 ? details[1]["source"] : nil
        #expect(source == "203.0.113.9")
        let detail: String = details[1]["detail"], omitted: Int? = details[2]["omitted"]
        #expect(detail.contains(#""services":["sshd"]"#))
        #expect(omitted == 40, "the summary of alerts not listed")
        let event = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT * FROM container_events") })
        let action: String = event["action"], container: String = event["container"]
        #expect(action == "exec_start: sh" && container == "api")
        let log = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT * FROM container_logs") })
        let message: String = log["message"]
        #expect(message == "GET / 500 password=[MASKED]")
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM alerts") } == 2, "the duplicate added no rows")
    }

    /// Counts the transactions committed.
    final class Commits: TransactionObserver, @unchecked Sendable {
        let count = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { count.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    /// Payloads arriving together share transactions (group commit), and each is still stored
    /// once with all its rows: every payload given twice at once, the copy answered duplicate
    /// whether it came in the same batch or a later one.
    @Test func concurrentPayloadsShareCommitsAndAreStoredOnce() async throws {
        let db = try open(Paths.tempDir("db-group"))
        let commits = Commits()
        try await db.pool.write { $0.add(transactionObserver: commits, extent: .databaseLifetime) }
        let payloads = (0..<300).map { Self.payload(String(format: "00000000-0000-4000-8000-%012d", $0)) }
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for p in payloads + payloads.shuffled() {
                let body = try PayloadCoding.encode(p)
                group.addTask { try await db.insert(p, body: body, receivedAt: 1_796_100_000) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 300 && results.filter { !$0 }.count == 300)
        for (table, rows) in [("payloads", 300), ("metrics", 300), ("alerts", 600), ("alert_details", 900), ("container_events", 300),
                              ("container_logs", 300)] {
            #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") } == rows, "\(table)")
        }
        let n = commits.count.withLock { $0 }
        #expect(n >= 1 && n < 300, "600 inserts in \(n) transactions")
    }

    @Test func reopeningKeepsEveryPayloadAndItsIdentity() async throws {
        let dir = Paths.tempDir("db-reopen")
        let p = Self.payload("00000000-0000-4000-8000-00000000db02")
        do {
            let db = try open(dir)
            #expect(try await db.insert(p, body: try PayloadCoding.encode(p), receivedAt: 1_796_100_000))
        }
        let again = try open(dir)
        let count = try await again.payloadCount(), migrations = try await again.appliedMigrations()
        #expect(count == 1 && migrations == ["v1", "v2", "v3"])
        #expect(try await !again.insert(p, body: try PayloadCoding.encode(p), receivedAt: 1_796_100_100))
    }

    /// Retention deletes a payload with every row stored from it, and nothing newer.
    @Test func retentionTakesAPayloadsRowsWithIt() async throws {
        let db = try open(Paths.tempDir("db-retention"))
        let old = Self.payload("00000000-0000-4000-8000-00000000db03"), recent = Self.payload("00000000-0000-4000-8000-00000000db04")
        #expect(try await db.insert(old, body: try PayloadCoding.encode(old), receivedAt: 1_000))
        #expect(try await db.insert(recent, body: try PayloadCoding.encode(recent), receivedAt: 2_000))
        #expect(try await db.deleteReceived(before: 1_500) == 1)
        for table in ["payloads", "metrics", "container_events", "container_logs"] {
            #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") } == 1, "\(table)")
        }
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM alerts WHERE payload_id = ?", arguments: [old.payloadID]) } == 0)
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM alert_details") } == 3)
    }
}
