import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built agent and receiver binaries: outages, crashes, restarts and bounds.
@Suite(.serialized) struct QueueBinaryTests {
    let secret = "queue-Secret-\(UUID().uuidString.prefix(8))"

    struct Setup {
        let dir: String
        let secretFile: String
        let queueDir: String
        let dataDir: String
        let receiverPort: Int
        let healthPort: Int
        var url: String { "http://127.0.0.1:\(receiverPort)/ingest" }
    }

    func setup(_ name: String) -> Setup {
        let dir = Paths.tempDir(name)
        return Setup(dir: dir, secretFile: writeSecret(dir, secret), queueDir: dir + "/queue", dataDir: dir + "/data",
                     receiverPort: freePort(), healthPort: freePort())
    }

    func startReceiver(_ s: Setup, _ name: String = "receiver", store: Bool = true) async throws -> Peer {
        let p = try Peer(name, try Paths.agentBinary(), ["--secret-file", s.secretFile, "receive",
                                                        "--listen", "127.0.0.1:\(s.receiverPort)"] + (store ? ["--data", s.dataDir] : []), dir: s.dir)
        try await eventually("receiver \(name) listening") { p.stderr.contains("receiver listening") }
        return p
    }

    func startAgent(_ s: Setup, _ name: String, interval: String = "0.2", extra: [String] = []) throws -> Peer {
        try Peer(name, try Paths.agentBinary(), ["--server-url", s.url, "--secret-file", s.secretFile, "--interval", interval,
                                                "--queue-dir", s.queueDir, "--health-addr", "127.0.0.1:\(s.healthPort)",
                                                "--log-level", "debug", "--send-timeout", "2"] + extra, dir: s.dir)
    }

    func health(_ s: Setup) async throws -> [String: Any] {
        let r = try await httpGet("http://127.0.0.1:\(s.healthPort)/healthz")
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
    }

    /// payload_ids an agent logged as durably queued, in order.
    func queuedIDs(_ logs: String) -> [String] {
        logs.split(separator: "\n").filter { $0.contains("payload queued") && $0.contains("durable=true") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("payload_id=") }.map { String($0.dropFirst("payload_id=".count)) }
        }
    }

    /// payload_ids in the receiver's store, in arrival order.
    func storedIDs(_ s: Setup) -> [String] {
        let text = (try? String(contentsOfFile: s.dataDir + "/payloads.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? PayloadCoding.decode(Array($0.utf8)).payloadID }
    }

    @Test func outageQueuesOnDiskThenDeliversAllInOrder() async throws {
        let s = setup("outage")
        let agent = try startAgent(s, "agent", extra: ["--drain-batch", "4"])
        try await eventually(timeout: 20, "backlog of 10 on disk") {
            !segments(s.queueDir).isEmpty && queuedIDs(agent.stderr).count >= 10
        }
        let during = try await health(s)
        #expect((during["queue_length"] as? Int ?? 0) >= 10 && (during["queue_bytes"] as? Int ?? 0) > 0)
        #expect(during["last_send_ok"] is NSNull)
        let receiver = try await startReceiver(s)
        try await eventually(timeout: 30, "queue drained") {
            dirBytes(s.queueDir) == 0 && storedIDs(s).count >= 10
        }
        let after = try await health(s)
        #expect((after["queue_length"] as? Int ?? 99) <= 1 && after["last_send_ok"] is String, "at most the newest payload in flight: \(after)")
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let queued = queuedIDs(agent.stderr), stored = storedIDs(s)
        #expect(stored == queued, "every queued payload delivered once, in order")
        #expect(dirBytes(s.queueDir) == 0, "no records left on disk")
        receiver.signal(SIGTERM)
        _ = await receiver.waitExit(timeout: 5)
    }

    @Test func queueLengthIsExactRightAfterARestart() async throws {
        let s = setup("restart")
        let a = try startAgent(s, "agent-1", interval: "0.1")
        try await eventually("12 queued") { queuedIDs(a.stderr).count >= 12 }
        a.signal(SIGKILL)
        _ = await a.waitExit(timeout: 5)
        let onDisk = segments(s.queueDir).reduce(0) { n, f in
            n + ((try? String(contentsOfFile: s.queueDir + "/" + f, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let b = try startAgent(s, "agent-2", interval: "60")
        try await eventually("health up") { (try? FileManager.default.contentsOfDirectory(atPath: s.dir)) != nil && b.stderr.contains("Server started") }
        let h = try await health(s)
        #expect(h["queue_length"] as? Int == onDisk && onDisk >= 12, "\(h) vs \(onDisk) records on disk")
        b.signal(SIGTERM)
        #expect(await b.waitExit(timeout: 20) == 0)
    }

    @Test func sigkillLoopWithFlappingReceiverDeliversEveryQueuedPayloadExactlyOnce() async throws {
        let s = setup("crash")
        var receiver: Peer? = try await startReceiver(s, "receiver-0")
        var logs = ""
        var rng = SystemRandomNumberGenerator()
        for i in 0..<22 {
            let agent = try startAgent(s, "agent-\(i)", interval: "0.1")
            // Two payloads queued first (however slow a loaded machine starts the agent), then
            // the kill lands at a random point of its work.
            try await eventually(timeout: 30, "agent-\(i) queued two payloads") { queuedIDs(agent.stderr).count >= 2 }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...700, using: &rng)))
            agent.signal(SIGKILL)
            _ = await agent.waitExit(timeout: 5)
            logs += agent.stderr
            if i % 3 == 2 { // flap the receiver: down hard, or back up
                if let r = receiver { r.signal(SIGKILL); _ = await r.waitExit(timeout: 5); receiver = nil }
                else { receiver = try await startReceiver(s, "receiver-\(i)") }
            }
        }
        if receiver == nil { receiver = try await startReceiver(s, "receiver-final") }
        let last = try startAgent(s, "agent-final", interval: "0.5", extra: ["--drain-batch", "1000"])
        let queued = queuedIDs(logs)
        #expect(queued.count >= 40, "the loop queued a real amount of payloads")
        try await eventually(timeout: 60, "all queued payloads stored") { Set(queued).isSubset(of: Set(storedIDs(s))) }
        try await eventually("final agent running") { last.stderr.contains("Server started") }
        last.signal(SIGTERM)
        #expect(await last.waitExit(timeout: 20) == 0)
        let stored = storedIDs(s)
        #expect(stored.count == Set(stored).count, "no payload stored twice")
        let counts = Dictionary(stored.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(queued.allSatisfy { counts[$0] == 1 }, "each queued payload exactly once at the receiver")
        receiver?.signal(SIGTERM)
        _ = await receiver?.waitExit(timeout: 5)
    }

    /// SIGTERM while a payload is in flight: the request finishes and the agent exits clean, the
    /// payload sent once (cut off and sent again by the shutdown flush in the same second, it was
    /// the same signature: a replay, refused 409 by a receiver without a store).
    @Test func shutdownLetsTheSendInFlightFinish() async throws {
        let s = setup("inflight")
        let server = try Peer("slow-server", "/usr/bin/env", ["python3", Paths.support + "/scripted_http_server.py", "slow"], dir: s.dir)
        defer { server.stop() }
        let port = try await server.waitReadyPort("scripted server ready")
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", s.secretFile, "--interval", "5",
            "--health-addr", "127.0.0.1:\(s.healthPort)", "--queue-dir", s.queueDir, "--auth-source", "none",
            "--docker-socket", "none"], dir: s.dir)
        defer { agent.stop() }
        try await eventually(timeout: 20, "the first payload in flight") { server.stdout.contains("x-agent-signature") }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let requests = server.stdout.split(separator: "\n").dropFirst().compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let signatures = requests.compactMap { ($0["headers"] as? [String: String])?["x-agent-signature"] }
        #expect(signatures.count == 1 && Set(signatures).count == signatures.count, "\(signatures.count) requests")
        #expect(!agent.stderr.contains("send failed"), "no failed send at shutdown")
    }

    @Test func tinyQueueBoundHoldsAndCountsDrops() async throws {
        let s = setup("bound")
        let max = 8192
        let agent = try startAgent(s, "agent", interval: "0.1", extra: ["--queue-max-bytes", "\(max)"])
        var peak = 0
        let deadline = Date().addingTimeInterval(4)
        while Date() < deadline {
            peak = Swift.max(peak, dirBytes(s.queueDir))
            try await Task.sleep(for: .milliseconds(20))
        }
        let h = try await health(s)
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        #expect(peak > 0 && peak <= max, "disk use \(peak) within --queue-max-bytes \(max)")
        #expect((h["queue_dropped_payloads"] as? Int ?? 0) > 0, "\(h)")
        #expect(agent.stderr.contains("dropped oldest segment"))
    }

    @Test func receiverRejectsReplaysAndDeduplicates() async throws {
        let s = setup("replay")
        let receiver = try await startReceiver(s)
        let body = try PayloadCoding.encode(Payload(
            payloadID: "00000000-0000-4000-8000-0000000000d1", agentVersion: "t", host: "h", serverID: "s", env: "dev", ownerTeam: "", timestamp: "2025-01-01T00:00:00Z",
            metrics: HostMetrics(cpuUsage: 1, memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: 0)))
        func send(_ ts: Int64) async throws -> (status: Int, body: String) {
            let sig = try await runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", secret], stdin: Array("\(ts).".utf8) + body)
            return try await httpRequest(s.url, method: "POST", headers: [
                ("X-Agent-Timestamp", "\(ts)"),
                ("X-Agent-Signature", "sha256=" + sig.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines))], body: body)
        }
        let now = Int64(Date().timeIntervalSince1970)
        #expect(try await send(now).status == 200)
        // With a store a replayed request is harmless: the payload_id is known, nothing is stored.
        let replay = try await send(now)
        #expect(replay.status == 200 && replay.body.contains(#""duplicate":true"#), "\(replay)")
        let retry = try await send(now + 1) // the agent's retry: same payload_id, new signature
        #expect(retry.status == 200 && retry.body.contains(#""duplicate":true"#))
        receiver.signal(SIGTERM)
        #expect(await receiver.waitExit(timeout: 20) == 0)
        // After a restart the store still knows the id.
        let again = try await startReceiver(s, "receiver-2")
        #expect(try await send(now + 2).body.contains("duplicate"))
        again.signal(SIGTERM)
        _ = await again.waitExit(timeout: 5)
        #expect(receiver.stdout.split(separator: "\n").count == 1 && again.stdout.isEmpty, "printed once")
        // Without a store only the signature tells a replay: 409.
        let bare = try await startReceiver(s, "receiver-3", store: false)
        #expect(try await send(now + 3).status == 200)
        let refused = try await send(now + 3)
        #expect(refused.status == 409 && refused.body.contains("replayed"))
        bare.signal(SIGTERM)
        _ = await bare.waitExit(timeout: 5)
    }

    @Test func readOnlyQueueDirIsReportedAndDeliveryContinuesFromMemory() async throws {
        let s = setup("roqueue")
        let mnt = s.dir + "/ro"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        #expect(try await runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", mnt]).isEmpty)
        defer { cleanUp("/bin/umount", ["-l", mnt]) }
        let receiver = try await startReceiver(s)
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", s.url, "--secret-file", s.secretFile, "--interval", "0.3", "--queue-dir", mnt + "/queue",
            "--health-addr", "127.0.0.1:\(s.healthPort)"], dir: s.dir)
        try await eventually("payloads delivered without a disk queue") { storedIDs(s).count >= 2 }
        let h = try await health(s)
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        receiver.signal(SIGTERM)
        _ = await receiver.waitExit(timeout: 5)
        #expect((h["queue_error"] as? String)?.contains("Read-only file system") == true, "\(h)")
        #expect(agent.stderr.contains("disk queue failing"))
    }

    @Test func clockSkewFromServerDateIsReported() async throws {
        let s = setup("skew")
        let verifier = try await PythonVerifier(dir: s.dir, secretFile: s.secretFile, dateOffset: 120)
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", s.secretFile, "--interval", "0.3",
            "--queue-dir", s.queueDir, "--health-addr", "127.0.0.1:\(s.healthPort)"], dir: s.dir)
        try await eventually("a payload delivered") { verifier.records().count >= 1 }
        // The verifier records a request before it answers: the agent reads the answer's Date a
        // moment after the record shows.
        var skew: Int?
        try await eventuallyAsync("the skew measured") {
            skew = try await health(s)["clock_skew_seconds"] as? Int
            return skew != nil
        }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        #expect(skew.map { abs($0 + 120) <= 2 } == true, "local minus server ≈ -120, got \(String(describing: skew))")
        #expect(agent.stderr.contains("clock skew"))
    }
}

func segments(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("queue_") }
}

func dirBytes(_ dir: String) -> Int {
    segments(dir).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0) }
}
