import AgentCore
import AgentPlatform
import Foundation
import TestSupport
import Testing

/// gzip on the wire between the real agent binary and real receivers: ours, Python's (which
/// decodes with its own gzip module and verifies after decoding), and one that does not take gzip.
@Suite struct CompressionTests {
    let secret = "compress-secret"

    func metric(_ text: String, _ name: String) -> Int {
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// The agent binary compressing every body, sending to `python` every half second.
    func compressingAgent(to python: PythonVerifier, secretFile: String, health: Int, dir: String) throws -> Peer {
        try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(python.port)/ingest", "--secret-file", secretFile, "--interval", "0.5",
            "--health-addr", "127.0.0.1:\(health)", "--compress-min-bytes", "1", "--docker-socket", "none",
        ], dir: dir)
    }

    /// The receiver decodes gzip within its body limit: a signed gzip payload is stored; a zip
    /// bomb is 413 after at most the limit decoded; a cut stream 400; another encoding 415.
    @Test func receiverDecodesGzipWithinItsBodyLimit() async throws {
        let dir = Paths.tempDir("gzip-recv")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), [
            "--secret-file", writeSecret(dir, secret), "receive", "--listen", "127.0.0.1:\(port)", "--body-limit", "65536",
        ], dir: dir)
        defer { receiver.stop() }
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let url = "http://127.0.0.1:\(port)/ingest"
        var payload = Payload(
            payloadID: "00000000-0000-4000-8000-00000000a001", agentVersion: "t", host: "h", serverID: "s", env: "dev", ownerTeam: "",
            timestamp: "2025-01-01T00:00:00Z",
            metrics: HostMetrics(cpuUsage: 1, memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: 0))
        payload.logs = (0..<300).map { LogEntry(container: "web", message: "GET /index.html 200 \($0)", timestamp: "2025-01-01T00:00:00Z") }
        let body = try PayloadCoding.encode(payload)
        #expect(body.count > 10_000)
        func post(_ b: [UInt8], encoding: String?, signing plain: [UInt8]) async throws -> (status: Int, body: String) {
            let now = Int64(Date().timeIntervalSince1970)
            var h: [(String, String)] = [("Content-Type", "application/json"), ("X-Agent-Timestamp", "\(now)"),
                                          ("X-Agent-Signature", PayloadSigner(secret: Secret(secret)).headerValue(timestamp: now, body: plain))]
            if let encoding { h.append(("Content-Encoding", encoding)) }
            return try await httpRequest(url, method: "POST", headers: h, body: b)
        }
        let gz = Gzip.compress(body)
        let ok = try await post(gz, encoding: "gzip", signing: body)
        #expect(ok.status == 200, "\(ok.body)")
        try await eventually("stored and printed") { receiver.stdout.contains("00000000-0000-4000-8000-00000000a001") }
        let printed = try PayloadCoding.decode(Array(receiver.stdout.split(separator: "\n")[0].utf8))
        #expect(printed.logs.count == 300)

        // Signed over the compressed bytes instead: the receiver verifies what it decoded.
        let wrong = try await post(gz, encoding: "gzip", signing: gz)
        #expect(wrong.status == 401)
        let bomb = Gzip.compress([UInt8](repeating: 0x20, count: 32 << 20))
        #expect(bomb.count < 65_536)
        let tooLarge = try await post(bomb, encoding: "gzip", signing: [])
        #expect(tooLarge.status == 413 && tooLarge.body.contains("decoded body larger than 65536"))
        let cut = try await post(Array(gz.prefix(gz.count / 2)), encoding: "gzip", signing: body)
        #expect(cut.status == 400 && cut.body.contains("gzip"))
        let other = try await post(body, encoding: "br", signing: body)
        #expect(other.status == 415)
        let identity = try await post(body, encoding: "identity", signing: body)
        #expect(identity.status == 409 || identity.status == 200, "the same payload again: \(identity.status)")
        #expect(receiver.process.isRunning)
    }

    /// The agent compresses every body (--compress-min-bytes 1); our receiver and Python's both
    /// verify what they decode, and the agent counts fewer bytes on the wire than it built.
    @Test func agentSendsGzipThatReceiversVerifyAfterDecoding() async throws {
        let dir = Paths.tempDir("gzip-agent")
        let secretFile = writeSecret(dir, secret)
        let python = try await PythonVerifier(dir: dir, secretFile: secretFile)
        defer { python.peer.stop() }
        let health = freePort()
        let agent = try compressingAgent(to: python, secretFile: secretFile, health: health, dir: dir)
        defer { agent.stop() }
        try await eventually("three payloads verified") { python.records().count >= 3 }
        for r in python.records() {
            #expect(r.valid && r.encoding == "gzip" && (r.wire_bytes ?? .max) < r.body.utf8.count, "\(r.encoding ?? "-") \(r.wire_bytes ?? -1)")
        }
        let text = try await httpGet("http://127.0.0.1:\(health)/metrics?format=prometheus").body
        let sent = metric(text, "monitoring_agent_payload_bytes_sent_total"), built = metric(text, "monitoring_agent_payload_bytes_uncompressed_total")
        #expect(sent > 0 && sent < built, "sent \(sent), built \(built)")
    }

    /// A server that does not take gzip answers 415 to the first compressed body: the agent sends
    /// that payload again uncompressed at once, says so once, and sends plain from then on.
    @Test func agentFallsBackToPlainForAServerWithoutGzip() async throws {
        let dir = Paths.tempDir("gzip-refused")
        let secretFile = writeSecret(dir, secret)
        let python = try await PythonVerifier(dir: dir, secretFile: secretFile, gzipStatus: 415)
        defer { python.peer.stop() }
        let agent = try compressingAgent(to: python, secretFile: secretFile, health: freePort(), dir: dir)
        defer { agent.stop() }
        try await eventually("three payloads verified") { python.records().count >= 3 }
        #expect(python.refusedGzipCount() == 1)
        #expect(python.records().allSatisfy { $0.valid && $0.encoding == nil })
        #expect(agent.stderr.components(separatedBy: "sending uncompressed from now on").count == 2, "said once")
    }
}
