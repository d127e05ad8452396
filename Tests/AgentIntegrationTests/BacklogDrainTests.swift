import AgentCore
import Foundation
import TestSupport
import Testing

/// A long outage in small: the receiver is down while the agent builds 200 payloads; the agent
/// restarts with a one-minute interval and the receiver comes back: the backlog is delivered
/// continuously (paced by --drain-rate), not --drain-batch per cycle (which would take 20
/// minutes here), every payload once, oldest first.
@Suite struct BacklogDrainTests {
    @Test func aBacklogIsDeliveredInOrderWhenTheServerReturns() async throws {
        let dir = Paths.tempDir("backlog")
        let secretFile = writeSecret(dir, "backlog-secret")
        let port = freePort(), health = freePort()
        func agent(interval: String) throws -> Peer {
            try Peer("agent", try Paths.agentBinary(), [
                "--server-url", "http://127.0.0.1:\(port)/ingest", "--secret-file", secretFile, "--interval", interval,
                "--health-addr", "127.0.0.1:\(health)", "--docker-socket", "none", "--queue-dir", dir + "/queue",
                "--drain-batch", "10", "--drain-rate", "200",
            ], dir: dir)
        }
        let building = try agent(interval: "0.1")
        defer { building.stop() }
        func queueLength() async -> Int {
            guard let body = try? await httpGet("http://127.0.0.1:\(health)/healthz").body,
                  let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return -1 }
            return json["queue_length"] as? Int ?? -1
        }
        try await eventuallyAsync(timeout: 120, "200 payloads queued while the server is down") { await queueLength() >= 200 }
        building.signal(SIGTERM)
        #expect(await building.waitExit(timeout: 20) == 0)
        let receiver = try Peer("receiver", try Paths.agentBinary(), [
            "--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)", "--data", dir + "/received",
        ], dir: dir)
        defer { receiver.stop() }
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let draining = try agent(interval: "60")
        defer { draining.stop() }
        // Delivered without waiting one cycle per batch: far more than --drain-batch per cycle.
        try await eventuallyAsync(timeout: 30, "backlog delivered") { await queueLength() == 0 && receiver.stdout.split(separator: "\n").count >= 200 }
        let payloads = try receiver.stdout.split(separator: "\n").map { try PayloadCoding.decode(Array($0.utf8)) }
        #expect(Set(payloads.map(\.payloadID)).count == payloads.count, "each payload once")
        let times = payloads.map(\.timestamp)
        #expect(times == times.sorted(), "oldest first")
        #expect(!building.stderr.contains("backlog-secret") && !draining.stderr.contains("backlog-secret"))
    }
}
