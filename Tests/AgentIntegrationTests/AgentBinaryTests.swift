import AgentCore
@testable import AgentApp
import Foundation
import ServerStore
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built `monitoring-agent` binary against real peers on loopback.
@Suite(.serialized) struct AgentBinaryTests {
    let secret = "e2e-Secret-\(UUID().uuidString.prefix(8))"

    @Test func signedPayloadsReachAnIndependentVerifierAndSIGTERMExitsZero() async throws {
        let dir = Paths.tempDir("e2e")
        let secretFile = writeSecret(dir, secret)
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile)
        let healthPort = freePort()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/ingest", "--secret-file", secretFile,
            "--interval", "0.5", "--health-addr", "127.0.0.1:\(healthPort)", "--env", "stage",
            "--owner-team", "sec-ops", "--server-id", "srv-e2e", "--log-level", "debug",
        ], dir: dir)
        try await eventually("3 payloads at the verifier") { verifier.records().count >= 3 }

        // Health endpoints while running.
        let health = try await httpGet("http://127.0.0.1:\(healthPort)/healthz")
        #expect(health.status == 200)
        let h = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as! [String: Any]
        #expect(h["uptime_seconds"] is Int && h["queue_length"] is Int)
        #expect(RFC3339.parse(h["last_send_ok"] as? String ?? "") != nil, "last_send_ok set after a 2xx: \(health.body)")
        let metrics = try await httpGet("http://127.0.0.1:\(healthPort)/metrics")
        let m = try JSONSerialization.jsonObject(with: Data(metrics.body.utf8)) as! [String: Any]
        #expect(m["cpu_usage"] is Double && (m["memory_usage"] as? Double ?? 0) > 0 && m["local_alerts"] is [Any])

        let stopAt = Date()
        agent.signal(SIGTERM)
        let code = await agent.waitExit(timeout: 5)
        #expect(code == 0, "exit status after SIGTERM, stderr: \(agent.stderr.suffix(2000))")
        #expect(Date().timeIntervalSince(stopAt) < 5)

        let records = verifier.records()
        #expect(records.count >= 3)
        var ids = Set<String>()
        for r in records {
            #expect(r.valid, "signature verified by Python hmac")
            #expect(r.content_type == "application/json" && r.path == "/ingest")
            #expect(abs(Double(r.timestamp)! - r.received_at) < 5, "X-Agent-Timestamp is send time")
            let p = try PayloadCoding.decode(Array(r.body.utf8))
            #expect(p.env == "stage" && p.ownerTeam == "sec-ops" && p.serverID == "srv-e2e" && !p.host.isEmpty)
            #expect((p.metrics.memoryUsage ?? 0) > 0 && (p.metrics.diskUsage ?? 0) > 0 && (0...100).contains(p.metrics.cpuUsage ?? -1))
            #expect(RFC3339.parse(p.timestamp) != nil && p.agentVersion == "0.1.0")
            ids.insert(p.payloadID)
        }
        #expect(ids.count == records.count, "payload_id unique per payload")
        let logs = agent.stderr + agent.stdout
        #expect(!logs.contains(secret), "secret leaked into agent output")
        #expect(logs.contains("monitoring-agent started"))
    }

    @Test func retriesWithBackoffHonouringRetryAfterAndKeepsPayloadID() async throws {
        let dir = Paths.tempDir("retry")
        let secretFile = writeSecret(dir, secret)
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile, statuses: [503, 429, 500], retryAfter: "1")
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", secretFile,
            "--interval", "5", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually(timeout: 25, "first payload delivered after 3 failures") { verifier.records().contains { $0.status == 200 } }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let r = verifier.records()
        let first4 = Array(r.prefix(4))
        #expect(first4.map(\.status) == [503, 429, 500, 200])
        let ids = try first4.map { try PayloadCoding.decode(Array($0.body.utf8)).payloadID }
        #expect(Set(ids).count == 1, "same payload_id across retries")
        #expect(first4.allSatisfy { $0.valid })
        // Retry-After: 1 on 503 and 429 means at least ~1 s between those attempts.
        #expect(first4[1].received_at - first4[0].received_at >= 0.9)
        #expect(first4[2].received_at - first4[1].received_at >= 0.9)
        let logs = agent.stderr
        #expect(logs.contains("http.status=503") && logs.contains("http.status=429"), "each failure logged with its status")
        #expect(!logs.contains(secret))
    }

    @Test func clientErrorIsLoggedAndNotRetried() async throws {
        let dir = Paths.tempDir("reject")
        let secretFile = writeSecret(dir, secret)
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile, statuses: [422])
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", secretFile,
            "--interval", "1", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually(timeout: 15, "two payloads seen") { verifier.records().count >= 2 }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let r = verifier.records()
        let ids = try r.map { try PayloadCoding.decode(Array($0.body.utf8)).payloadID }
        #expect(r[0].status == 422 && ids[0] != ids[1], "the 422 payload was not sent again")
        #expect(agent.stderr.contains("http.status=422") && agent.stderr.contains("not retried"))
    }

    @Test func httpsWithPrivateCAIsVerified() async throws {
        let dir = Paths.tempDir("tls")
        let secretFile = writeSecret(dir, secret)
        let pki = try await makeTestPKI(dir)
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile, tls: (pki.cert, pki.key))
        // Trusted through --ca-file: delivered.
        let good = try Peer("agent-ca", try Paths.agentBinary(), [
            "--server-url", "https://127.0.0.1:\(verifier.port)/ingest", "--secret-file", secretFile, "--ca-file", pki.ca,
            "--interval", "0.5", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually("payload over https") { verifier.records().count >= 1 }
        good.signal(SIGTERM)
        #expect(await good.waitExit(timeout: 20) == 0)
        #expect(verifier.records().allSatisfy { $0.valid })

        // Without the CA the certificate is refused and nothing is delivered.
        let before = verifier.records().count
        let bad = try Peer("agent-noca", try Paths.agentBinary(), [
            "--server-url", "https://127.0.0.1:\(verifier.port)/ingest", "--secret-file", secretFile,
            "--interval", "0.5", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually("TLS failure logged") { bad.stderr.contains("send failed") }
        bad.signal(SIGTERM)
        #expect(await bad.waitExit(timeout: 20) == 0)
        #expect(verifier.records().count == before)
        #expect(bad.stderr.contains("TLS") || bad.stderr.contains("certificate"), "\(bad.stderr.suffix(1500))")

        // Trusted CA, wrong name: a certificate for wrong.example only, served at 127.0.0.1.
        let wrongServer = try await PythonVerifier(dir: Paths.tempDir("tls-wrong"), secretFile: secretFile, tls: (pki.wrongCert, pki.wrongKey))
        let wrongName = try Peer("agent-name", try Paths.agentBinary(), [
            "--server-url", "https://127.0.0.1:\(wrongServer.port)/ingest", "--secret-file", secretFile, "--ca-file", pki.ca,
            "--interval", "0.5", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually("name mismatch logged") { wrongName.stderr.contains("send failed") }
        wrongName.signal(SIGTERM)
        #expect(await wrongName.waitExit(timeout: 20) == 0)
        #expect(wrongServer.records().isEmpty)
        #expect(wrongName.stderr.contains("TLS"), "\(wrongName.stderr.suffix(1500))")
    }

    @Test func receiverBinaryVerifiesAndPrintsPayloads() async throws {
        let dir = Paths.tempDir("recv")
        let secretFile = writeSecret(dir, secret)
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), [
            "--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)", "--body-limit", "65536",
        ], dir: dir)
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let url = "http://127.0.0.1:\(port)/ingest"
        let body = try PayloadCoding.encode(Payload(
            payloadID: "00000000-0000-4000-8000-000000000001", agentVersion: "t", host: "h", serverID: "s", env: "dev", ownerTeam: "", timestamp: "2025-01-01T00:00:00Z",
            metrics: HostMetrics(cpuUsage: 1, memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: 0)))
        let now = Int64(Date().timeIntervalSince1970)
        // Signed independently with openssl.
        func opensslSign(_ ts: Int64, _ b: [UInt8]) async throws -> String {
            let out = try await runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", secret], stdin: Array("\(ts).".utf8) + b)
            return "sha256=" + out.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func post(_ ts: String?, _ sig: String?, _ b: [UInt8]) async throws -> (status: Int, body: String) {
            var h: [(String, String)] = [("Content-Type", "application/json")]
            if let ts { h.append(("X-Agent-Timestamp", ts)) }
            if let sig { h.append(("X-Agent-Signature", sig)) }
            return try await httpRequest(url, method: "POST", headers: h, body: b)
        }
        let ok = try await post("\(now)", opensslSign(now, body), body)
        #expect(ok.status == 200)
        // A payload_id the store could not index exactly (not a lowercase UUID) is refused.
        for badID in ["manual-1", "", "00000000-0000-4000-8000-00000000000A", "00000000-0000-4000-8000-000000000001\"x"] {
            let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "00000000-0000-4000-8000-000000000001",
                                                                                  with: badID.replacingOccurrences(of: "\"", with: "\\\""))
            let b = Array(text.utf8)
            let r = try await post("\(now)", opensslSign(now, b), b)
            #expect(r.status == 400 && r.body.contains("payload_id"), "\(badID): \(r.status)")
        }
        let badSig = try await post("\(now)", opensslSign(now, body).replacingOccurrences(of: "a", with: "b"), body)
        #expect(badSig.status == 401 && badSig.body.contains("signature mismatch"))
        let stale = try await post("\(now - 301)", opensslSign(now - 301, body), body)
        #expect(stale.status == 401 && stale.body.contains("skew"))
        let noTS = try await post(nil, opensslSign(now, body), body)
        #expect(noTS.status == 401 && noTS.body.contains("X-Agent-Timestamp"))
        let big = [UInt8](repeating: 0x20, count: 70_000)
        let tooBig = try await post("\(now)", opensslSign(now, big), big)
        #expect(tooBig.status == 413)

        // And the real agent against the real receiver.
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", url, "--secret-file", secretFile, "--interval", "0.5", "--health-addr", "127.0.0.1:\(freePort())",
        ], dir: dir)
        try await eventually("agent payloads printed by receiver") { receiver.stdout.split(separator: "\n").count >= 3 }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        receiver.signal(SIGTERM)
        #expect(await receiver.waitExit(timeout: 20) == 0)
        let lines = receiver.stdout.split(separator: "\n")
        #expect(try PayloadCoding.decode(Array(lines[0].utf8)).payloadID == "00000000-0000-4000-8000-000000000001", "only the verified request was printed first")
        for line in lines { #expect(throws: Never.self) { try PayloadCoding.decode(Array(line.utf8)) } }
        #expect(!receiver.stderr.contains(secret) && !receiver.stdout.contains(secret))
    }

    @Test func simulateAttackRaisesEveryAlertThroughTheDetectorsAndIsMarked() async throws {
        let dir = Paths.tempDir("sim")
        let secretFile = writeSecret(dir, secret)
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile)
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", secretFile, "--interval", "0.5",
            "--health-addr", "127.0.0.1:\(freePort())", "--queue-dir", dir + "/queue", "--simulate-attack",
            "--failed-auth-threshold", "7", "--baseline-samples", "5"], dir: dir)
        try await eventually("2 payloads") { verifier.records().count >= 2 }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        for r in verifier.records() {
            let p = try PayloadCoding.decode(Array(r.body.utf8))
            #expect(p.simulated == true && r.body.contains(#""simulated":true"#))
            #expect(Set(p.localAlerts) == ["CPU_SPIKE", "BRUTE_FORCE:203.0.113.66", "SHELL_IN_CONTAINER", "LOGIN_AFTER_FAILURES:203.0.113.66",
                                           "USER_ENUMERATION:203.0.113.66", "DISTRIBUTED_BRUTE_FORCE:deploy"])
            #expect(p.score == 3.2)
            #expect(Set(p.alertsDetail.map(\.rule)).isSuperset(of: [.bruteForce, .loginAfterFailures, .userEnumeration, .distributedBruteForce]))
        }
    }

    @Test func silentServerTimesOutAndSIGINTExitsZero() async throws {
        let dir = Paths.tempDir("hang")
        let secretFile = writeSecret(dir, secret)
        // Accepts connections and never answers.
        let server = try Peer("silent", "/usr/bin/env", ["python3", "-c", """
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print(s.getsockname()[1], flush=True)
            held = []
            while True: held.append(s.accept())
            """], dir: dir)
        try await eventually("silent server port") { !server.stdout.isEmpty }
        let port = server.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let started = Date()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", secretFile, "--interval", "0.5",
            "--send-timeout", "1", "--health-addr", "127.0.0.1:\(freePort())"], dir: dir)
        try await eventually(timeout: 10, "request timeout logged") { agent.stderr.contains("request timeout") }
        #expect(Date().timeIntervalSince(started) < 8, "the 1 s --send-timeout bounds each attempt")
        agent.signal(SIGINT)
        let code = await agent.waitExit(timeout: 5)
        #expect(code == 0, "SIGINT exits 0 within 5 s: \(agent.stderr.suffix(800))")
        #expect(!agent.stderr.contains(secret))
    }

    /// The demo prints one readable line per verified payload (`--json`: the payloads), and ends
    /// after `--count` without a failed send: with `monitoring-server` beside the agent, that
    /// server stores them in the demo's SQLite database and serves the dashboard whose URL the
    /// demo prints; an agent alone (copied away from the server) uses its in-process receiver.
    @Test(arguments: [(false, true), (true, true), (false, false)])
    func demoCommandRunsWithNoOutsideServer(_ json: Bool, _ withServer: Bool) async throws {
        let dir = Paths.tempDir("demo")
        var binary = try Paths.agentBinary()
        if !withServer {
            try FileManager.default.copyItem(atPath: binary, toPath: dir + "/monitoring-agent")
            binary = dir + "/monitoring-agent"
        }
        let port = freePort()
        let demo = try Peer("demo", binary, [
            "--interval", "0.5", "--health-addr", "127.0.0.1:\(freePort())", "--simulate-attack", "demo", "--port", "\(port)", "--count", "2",
        ] + (json ? ["--json"] : []), env: ["SERVER_BIN": ""], dir: dir)
        let code = await demo.waitExit(timeout: 60)
        #expect(code == 0, "\(demo.stderr)")
        #expect(!demo.stderr.contains("send failed") && !demo.stderr.contains("replayed"), "\(demo.stderr)")
        let lines = demo.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            if json {
                #expect(try PayloadCoding.decode(Array(line.utf8)).metrics.memoryUsage ?? 0 > 0)
            } else {
                #expect(line.contains("  cpu ") && line.contains("  mem ") && line.contains("BRUTE_FORCE:203.0.113.66")
                        && line.contains("(simulated)"), "\(line)")
            }
        }
        if withServer {
            #expect(demo.stderr.contains("dashboard on http://127.0.0.1:\(port)/"), "\(demo.stderr)")
            let db = try PayloadDatabase(path: dir + "/demo-data/monitoring.sqlite")
            #expect(try await db.payloadCount() >= 2, "the server stored what the demo printed")
            #expect(!demo.stderr.contains(try String(contentsOfFile: dir + "/demo-data/demo-secret", encoding: .utf8)), "no secret in the log")
        } else {
            #expect(demo.stderr.contains("no monitoring-server beside this binary") && !FileManager.default.fileExists(atPath: dir + "/demo-data"))
        }
    }

    /// The demo's readable line: metrics with units, the first alerts by name and how many more
    /// (summarised ones included), the score.
    @Test func payloadSummaryLine() {
        var p = Payload(payloadID: "x", agentVersion: "t", host: "web-1", serverID: "s", env: "dev", ownerTeam: "", timestamp: "2026-12-01T03:37:12Z",
                        metrics: HostMetrics(cpuUsage: 12.34, memoryUsage: 40, diskUsage: nil, networkRxBytesPerSec: 2_048,
                                             networkTxBytesPerSec: 5_242_880, tcpConnections: 7),
                        alerts: (1...5).map { Alert(.bruteForce, subject: "192.0.2.\($0)") }, omitted: [.bruteForce: 10])
        #expect(PayloadSummary.line(p) == "03:37:12  web-1  cpu 12.3%  mem 40.0%  disk ?  net in 2.0 KB/s out 5.0 MB/s  tcp 7  "
                + "15 alerts: BRUTE_FORCE:192.0.2.1 BRUTE_FORCE:192.0.2.2 BRUTE_FORCE:192.0.2.3 (+12)  score 7.5")
        p.localAlerts = []
        p.alertsDetail = []
        #expect(PayloadSummary.line(p).hasSuffix("no alerts  score 7.5"))
    }
}

/// A private CA, a server certificate for 127.0.0.1 and one for the name wrong.example only,
/// made with openssl.
func makeTestPKI(_ dir: String) async throws -> (ca: String, cert: String, key: String, wrongCert: String, wrongKey: String) {
    let sh = """
    set -e
    cd '\(dir)'
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=test-ca' 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout wrong.key -out wrong.csr -subj '/CN=wrong.example' 2>/dev/null
    printf 'subjectAltName=DNS:wrong.example\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > wrong.cnf
    openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrong.pem -days 2 -extfile wrong.cnf 2>/dev/null
    echo done
    """
    let out = try await runProcess("/bin/sh", ["-c", sh])
    guard out.contains("done") else { throw PeerError("openssl failed: \(out)") }
    return (dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/wrong.pem", dir + "/wrong.key")
}
