import AgentCore
import Foundation
import HummingbirdBcrypt
import ServerDashboard
import ServerStore
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `monitoring-server` as built: an agent's payloads verified and stored in SQLite once each, a
/// replayed request answered as the duplicate it is, the database kept across restarts, bad
/// flags refused by name.
@Suite(.serialized) struct ServerBinaryTests {
    let secret = "server-Secret-\(UUID().uuidString.prefix(8))"

    func startServer(_ dir: String, port: Int, _ name: String = "server") async throws -> Peer {
        let p = try Peer(name, try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)",
                                                          "--data", dir + "/data"], dir: dir)
        try await eventually("\(name) listening") { p.stderr.contains("server listening") }
        return p
    }

    /// A small payload's body (host `h`, server id `s`) collected at `time`.
    static func body(_ id: String, at time: Int64) throws -> [UInt8] {
        try PayloadCoding.encode(Payload(
            payloadID: id, agentVersion: "t", host: "h", serverID: "s", env: "dev", ownerTeam: "", timestamp: RFC3339.format(unixSeconds: time),
            metrics: HostMetrics(cpuUsage: 1, memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: 0)))
    }

    /// POSTs `body` to a server's /ingest signed with `secret` at `ts` (or with `signature` as given).
    static func ingest(port: Int, _ body: [UInt8], secret: String, at ts: Int64, signature: String? = nil,
                       extra: [(String, String)] = []) async throws -> (status: Int, body: String) {
        try await httpRequest("http://127.0.0.1:\(port)/ingest", method: "POST", headers: [
            ("X-Agent-Timestamp", "\(ts)"),
            ("X-Agent-Signature", signature ?? PayloadSigner(secret: Secret(secret)).headerValue(timestamp: ts, body: body))] + extra, body: body)
    }

    /// A Prometheus exposition's samples by series (name and labels as written).
    static func samples(_ text: String) -> [String: Double] {
        var values = [String: Double]()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = v
        }
        return values
    }

    /// Payloads stored, read with a synchronous query (`eventually` polls synchronously).
    static func count(_ db: PayloadDatabase) throws -> Int {
        try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM payloads") } ?? 0
    }

    @Test func storesAnAgentsPayloadsOnceAndAnswersReplaysAsDuplicates() async throws {
        let dir = Paths.tempDir("server")
        _ = writeSecret(dir, secret)
        let port = freePort()
        let server = try await startServer(dir, port: port)
        defer { server.stop() }
        // A replayed request (the same signature) and a retry (a new one) of one payload.
        let body = try ServerBinaryTests.body("00000000-0000-4000-8000-0000000005e1", at: Int64(Date().timeIntervalSince1970))
        func send(_ ts: Int64) async throws -> (status: Int, body: String) {
            let sig = try await runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", secret], stdin: Array("\(ts).".utf8) + body)
            return try await httpRequest("http://127.0.0.1:\(port)/ingest", method: "POST", headers: [
                ("X-Agent-Timestamp", "\(ts)"),
                ("X-Agent-Signature", "sha256=" + sig.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines))], body: body)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let first = try await send(now)
        #expect(first.status == 200 && !first.body.contains("duplicate"))
        for ts in [now, now + 1] {
            let again = try await send(ts)
            #expect(again.status == 200 && again.body.contains(#""duplicate":true"#), "\(again)")
        }
        #expect(try await send(now + 2 - 10_000).status == 401, "outside the skew window")

        // A real agent with synthetic attacks: its payloads, alerts and metrics in the database.
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/ingest", "--secret-file", dir + "/secret", "--interval", "0.5",
            "--queue-dir", dir + "/queue", "--health-addr", "127.0.0.1:\(freePort())", "--docker-socket", "none",
            "--auth-source", "none", "--simulate-attack"], dir: dir)
        defer { agent.stop() }
        let db = try PayloadDatabase(path: dir + "/data/monitoring.sqlite")
        try await eventually(timeout: 20, "three payloads of the agent stored") { try Self.count(db) >= 4 }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let stored = try Self.count(db)
        let brute = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM alerts WHERE rule = 'BRUTE_FORCE' AND subject = '203.0.113.66'") }
        let metrics = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM metrics WHERE cpu_usage IS NOT NULL") }
        let simulated = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM payloads WHERE simulated = 1") }
        #expect((brute ?? 0) >= 1 && (metrics ?? 0) >= 3 && simulated == stored - 1)
        #expect(!agent.stderr.contains("send failed"), "every payload delivered at once")

        // The dashboard in a real browser: the numbers on the pages are the stored ones.
        try await dashboardInChromium(port: port, database: db, stored: stored)

        // After a restart the database still knows every payload_id.
        server.signal(SIGTERM)
        #expect(await server.waitExit(timeout: 20) == 0)
        let again = try await startServer(dir, port: port, "server-2")
        defer { again.stop() }
        #expect(again.stderr.contains("payloads=\(stored)"))
        #expect(try await send(now + 3).body.contains("duplicate"))
        #expect(try Self.count(db) == stored)
    }

    /// Headless Chromium (Tests/Support/dashboard_browser.py) on the fleet page, a click through
    /// to the host page, and the alerts page: what it shows matches the database, no console
    /// message on any page.
    func dashboardInChromium(port: Int, database db: PayloadDatabase, stored: Int) async throws {
        let dir = Paths.tempDir("browser")
        let browser = try Peer("chromium", "/usr/bin/env", ["python3", Paths.support + "/dashboard_browser.py", "http://127.0.0.1:\(port)"], dir: dir)
        #expect(await browser.waitExit(timeout: 120) == 0, "\(browser.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(browser.stdout.utf8)) as? [String: Any], "\(browser.stderr)")
        let newest = try #require(try await db.fleet(now: Int64(Date().timeIntervalSince1970)).first)
        let row = try #require((seen["fleet"] as? [[String: Any]])?.first)
        #expect(row["server_id"] as? String == newest.serverID && row["host"] as? String == newest.host)
        #expect(row["cpu"] as? String == HTML.number(newest.cpu) && row["memory"] as? String == HTML.number(newest.memory)
                && row["disk"] as? String == HTML.number(newest.disk) && row["score"] as? String == HTML.number(newest.score))
        #expect(row["alerts"] as? String == "\(newest.alertsLastHour)" && row["stale"] as? Bool == false)
        #expect(seen["charts"] as? [String] == ["CPU %", "Memory %", "Disk %", "Network received, bytes/s", "Network sent, bytes/s", "TCP connections"])
        #expect((seen["lines"] as? Int ?? 0) >= 6, "every chart has a line")
        #expect((seen["host_url"] as? String)?.hasSuffix("/hosts/" + newest.serverID) == true)
        let rules = seen["alert_rules"] as? [String] ?? []
        let expected = try await db.alerts(rule: "BRUTE_FORCE", since: Int64(Date().timeIntervalSince1970) - 86_400).count
        #expect(!rules.isEmpty && rules.count == expected && rules.allSatisfy { $0 == "BRUTE_FORCE" })
        #expect((seen["alert_subjects"] as? [String])?.allSatisfy { $0 == "203.0.113.66" } == true)
        #expect(seen["console"] as? [String] == [], "console messages: \(seen["console"] ?? "")")
        #expect(stored > 0)
    }

    /// The documented rotation, end to end: the server's keyring gets the new key (SIGHUP), the
    /// agents' secret file gets the new secret (SIGHUP), the old key leaves the keyring (SIGHUP).
    /// Every payload is delivered, each stored with the key that verified it; a keyring that
    /// cannot be read on reload keeps the keys in use; an agent still naming the removed key
    /// with the new secret is verified by the new key.
    @Test func secretsRotateWithoutALostPayload() async throws {
        let dir = Paths.tempDir("rotate")
        let keyring = dir + "/keyring", agentSecret = dir + "/agent-secret"
        func write(_ path: String, _ text: String) {
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        }
        write(keyring, "# current keys\nk1: first-\(secret)\n")
        write(agentSecret, "first-\(secret)\n")
        let port = freePort()
        let server = try Peer("server", try Paths.serverBinary(), ["--keyring", keyring, "--listen", "127.0.0.1:\(port)",
                                                                   "--data", dir + "/data"], dir: dir)
        defer { server.stop() }
        try await eventually("server listening") { server.stderr.contains("server listening") }
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/ingest", "--secret-file", agentSecret, "--interval", "0.3",
            "--queue-dir", dir + "/queue", "--health-addr", "127.0.0.1:\(freePort())", "--docker-socket", "none", "--auth-source", "none",
            "--log-level", "debug"], dir: dir)
        defer { agent.stop() }
        let db = try PayloadDatabase(path: dir + "/data/monitoring.sqlite")
        func count(_ key: String) throws -> Int {
            try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM payloads WHERE key_id = ?", arguments: [key]) } ?? 0
        }
        try await eventually(timeout: 20, "payloads verified with k1") { try count("k1") >= 2 }

        // A broken keyring on reload: the server keeps k1 and says why.
        write(keyring, "k1 first-\(secret)\n")
        server.signal(SIGHUP)
        try await eventually("the failed reload logged") { server.stderr.contains("reload on SIGHUP failed") }
        #expect(!server.stderr.contains("first-\(secret)"), "no secret in the server's log")
        let before = try count("k1")
        try await eventually(timeout: 20, "k1 still verifies") { try count("k1") > before + 1 }

        // 1. The new key beside the old one.
        write(keyring, "k1: first-\(secret)\nk2: second-\(secret)\n")
        server.signal(SIGHUP)
        try await eventually("keys reloaded") { server.stderr.contains("loaded=k1,k2") }
        // 2. The agents move over.
        write(agentSecret, "second-\(secret)\n")
        agent.signal(SIGHUP)
        try await eventually(timeout: 20, "payloads verified with k2") { try count("k2") >= 2 }
        // 3. The old key goes.
        write(keyring, "k2: second-\(secret)\n")
        server.signal(SIGHUP)
        try await eventually("k1 removed") { server.stderr.contains("loaded=k2") }
        func verified(_ key: String) async throws -> Double? {
            Self.samples(try await httpGet("http://127.0.0.1:\(port)/metrics").body)[#"monitoring_server_verified_payloads_total{key_id=""# + key + #""}"#]
        }
        let k1Verified = try await verified("k1"), k2Verified = try await verified("k2")
        let moved = try count("k2")
        try await eventually(timeout: 20, "still delivering") { try count("k2") > moved + 1 }
        #expect((k1Verified ?? 0) >= 2 && (k2Verified ?? 0) >= 2, "/metrics counts each key's payloads")
        #expect(try await verified("k1") == k1Verified, "a removed key verifies nothing more")
        #expect(try await verified("k2") ?? 0 > k2Verified ?? 0)
        let inUse = try await db.fleet(now: Int64(Date().timeIntervalSince1970)).first?.keyID
        #expect(inUse == "k2", "the fleet page names the key in use")

        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        #expect(!agent.stderr.contains("send failed"), "no payload refused during the rotation: \(agent.stderr.suffix(1500))")
        let queued = Set(agent.stderr.split(separator: "\n").filter { $0.contains("payload queued") }.compactMap {
            $0.split(separator: " ").first { $0.hasPrefix("payload_id=") }.map { String($0.dropFirst("payload_id=".count)) }
        })
        let stored = try db.read { try String.fetchAll($0, sql: "SELECT payload_id FROM payloads") }
        #expect(queued.count >= 8 && queued.isSubset(of: Set(stored)), "every payload built was stored: \(queued.count)")

        // An agent still naming the old key (its flags change only at restart) with the new
        // secret: verified by k2, and nothing refused.
        let beforeNamed = try count("k2")
        let named = try Peer("agent-named", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/ingest", "--secret-file", agentSecret, "--key-id", "k1", "--interval", "0.3",
            "--queue-dir", dir + "/queue-named", "--health-addr", "127.0.0.1:\(freePort())", "--docker-socket", "none", "--auth-source", "none"], dir: dir)
        defer { named.stop() }
        try await eventually(timeout: 20, "the agent naming k1 verified with k2") { try count("k2") >= beforeNamed + 3 }
        named.signal(SIGTERM)
        #expect(await named.waitExit(timeout: 20) == 0)
        #expect(!named.stderr.contains("send failed") && !server.stderr.contains("signature mismatch"), "\(named.stderr.suffix(1500))")
    }

    /// `--dashboard-users`: the pages ask for a user (401 with a Basic challenge), a right
    /// password opens them, ingest is unchanged, and a SIGHUP with a new file replaces the users
    /// at once; a broken file keeps them and is logged without a hash.
    @Test func dashboardAsksForAUserAndReloadsThem() async throws {
        let dir = Paths.tempDir("server-users")
        _ = writeSecret(dir, secret)
        let users = dir + "/users"
        let alice = Bcrypt.hash("alice pw", cost: 6)
        FileManager.default.createFile(atPath: users, contents: Data("alice: $2y$\(alice.dropFirst(4))\n".utf8))
        let port = freePort()
        let server = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)",
                                                                   "--data", dir + "/data", "--dashboard-users", users], dir: dir)
        defer { server.stop() }
        try await eventually("server listening") { server.stderr.contains("server listening") }
        func get(_ path: String, _ user: String? = nil, _ password: String = "") async throws -> (status: Int, headers: [(String, String)], body: String) {
            let auth = user.map { [("Authorization", "Basic " + Data("\($0):\(password)".utf8).base64EncodedString())] } ?? []
            return try await httpExchange("http://127.0.0.1:\(port)\(path)", headers: auth)
        }
        for path in ["/", "/alerts", "/hosts/x", "/favicon.svg"] {
            let r = try await get(path)
            #expect(r.status == 401 && r.headers.contains { $0.0.lowercased() == "www-authenticate" && $0.1.hasPrefix("Basic realm=") }, "\(path)")
        }
        for path in ["/healthz", "/metrics"] { #expect(try await get(path).status == 200, "\(path) needs no user: load balancers and Prometheus") }
        #expect(try await get("/", "alice", "wrong").status == 401)
        #expect(try await get("/", "mallory", "alice pw").status == 401)
        let open = try await get("/", "alice", "alice pw")
        #expect(open.status == 200 && open.body.contains("Fleet"))

        // Ingest is signed, not signed in.
        let body = try ServerBinaryTests.body("00000000-0000-4000-8000-0000000005e2", at: Int64(Date().timeIntervalSince1970))
        let signed = try await Self.ingest(port: port, body, secret: secret, at: Int64(Date().timeIntervalSince1970))
        #expect(signed.status == 200, "\(signed)")

        // A broken file on reload keeps alice; a new one replaces her.
        FileManager.default.createFile(atPath: users, contents: Data("alice \(alice)\n".utf8))
        server.signal(SIGHUP)
        try await eventually("the failed reload logged") { server.stderr.contains("reload on SIGHUP failed") }
        #expect(!server.stderr.contains(alice) && !server.stderr.contains(String(alice.dropFirst(7))), "no hash in the log")
        #expect(try await get("/", "alice", "alice pw").status == 200)
        FileManager.default.createFile(atPath: users, contents: Data("bob: \(Bcrypt.hash("bob pw", cost: 6))\n".utf8))
        server.signal(SIGHUP)
        try await eventually("users reloaded") { server.stderr.contains("dashboard users bob") }
        #expect(try await get("/", "alice", "alice pw").status == 401, "alice removed")
        #expect(try await get("/alerts", "bob", "bob pw").status == 200)
    }

    /// `/healthz` says whether the database answers; `/metrics` counts every answer by status and
    /// why, the bytes read, the payloads each key verified and the store's time, in a form
    /// promtool accepts; neither names a secret.
    @Test func healthAndMetricsCountEveryAnswer() async throws {
        let dir = Paths.tempDir("server-metrics")
        _ = writeSecret(dir, secret)
        let port = freePort()
        let server = try await startServer(dir, port: port)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(port)"
        let health = try await httpExchange(base + "/healthz")
        let healthJSON = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(health.status == 200 && healthJSON["database"] as? String == "up" && healthJSON["status"] as? String == "ok"
                && healthJSON["version"] as? String == "0.1.0", "\(health.body)")

        let now = Int64(Date().timeIntervalSince1970)
        let body = try ServerBinaryTests.body("00000000-0000-4000-8000-0000000005e3", at: now)
        func post(_ b: [UInt8], ts: Int64 = now, signature: String? = nil, extra: [(String, String)] = []) async throws -> Int {
            try await Self.ingest(port: port, b, secret: secret, at: ts, signature: signature, extra: extra).status
        }
        #expect(try await post(body) == 200)
        #expect(try await post(body, ts: now + 1) == 200, "a duplicate")
        #expect(try await post(body, ts: now - 10_000) == 401, "outside the skew window")
        #expect(try await post(body, signature: "sha256=" + String(repeating: "0", count: 64)) == 401)
        #expect(try await post(Array("{}".utf8)) == 400)
        #expect(try await post(body, extra: [("Content-Encoding", "br")]) == 415)
        #expect(try await post(Array("not gzip".utf8), extra: [("Content-Encoding", "gzip")]) == 400)

        let metrics = try await httpExchange(base + "/metrics")
        #expect(metrics.status == 200 && metrics.headers.contains { $0.0.lowercased() == "content-type" && $0.1.hasPrefix("text/plain; version=0.0.4") })
        let values = Self.samples(metrics.body)
        let sent = [body.count, body.count, body.count, body.count, 2, body.count, 8].reduce(0, +)
        let expected: [String: Double] = [
            #"monitoring_server_requests_total{code="200",outcome="stored"}"#: 1,
            #"monitoring_server_requests_total{code="200",outcome="duplicate"}"#: 1,
            #"monitoring_server_requests_total{code="401",outcome="clock_skew"}"#: 1,
            #"monitoring_server_requests_total{code="401",outcome="bad_signature"}"#: 1,
            #"monitoring_server_requests_total{code="400",outcome="bad_payload"}"#: 1,
            #"monitoring_server_requests_total{code="415",outcome="unsupported_encoding"}"#: 1,
            #"monitoring_server_requests_total{code="400",outcome="bad_gzip"}"#: 1,
            #"monitoring_server_requests_total{code="401",outcome="missing_timestamp"}"#: 0,
            #"monitoring_server_verified_payloads_total{key_id="(secret)"}"#: 2,
            "monitoring_server_store_duration_seconds_count": 2,
            "monitoring_server_request_body_bytes_total": Double(sent),
            "monitoring_server_database_up": 1,
        ]
        for (series, value) in expected { #expect(values[series] == value, "\(series)") }
        #expect((values["monitoring_server_database_probe_seconds"] ?? 0) > 0)
        #expect(!metrics.body.contains(secret) && !metrics.body.contains("\"h\"") && !health.body.contains(secret))
        let (status, out) = try await runTool("/usr/bin/promtool", ["check", "metrics"], stdin: Array(metrics.body.utf8))
        #expect(status == 0, "promtool: \(out)")
    }

    /// `--failure-limit`: an address whose requests keep failing verification gets 429 with
    /// Retry-After before its body is read, for the rest of its minute, counted in /metrics and
    /// logged once; another address is not affected.
    @Test func anAddressThatKeepsFailingIsRefusedBeforeItsBodyIsRead() async throws {
        let dir = Paths.tempDir("server-limit")
        _ = writeSecret(dir, secret)
        let port = freePort()
        let server = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)",
                                                                   "--data", dir + "/data", "--failure-limit", "3"], dir: dir)
        defer { server.stop() }
        try await eventually("server listening") { server.stderr.contains("server listening") }
        let now = Int64(Date().timeIntervalSince1970)
        let body = try ServerBinaryTests.body("00000000-0000-4000-8000-0000000005e5", at: now)
        let bodyFile = dir + "/body.json"
        FileManager.default.createFile(atPath: bodyFile, contents: Data(body))
        let good = PayloadSigner(secret: Secret(secret)).headerValue(timestamp: now, body: body)
        /// curl from `source` (any 127/8 address is this host): the status and the Retry-After header.
        func post(from source: String, signature: String) async throws -> (status: Int, retryAfter: Int?) {
            let r = try await runTool("/usr/bin/curl", ["-sS", "-m", "10", "--interface", source, "-o", "/dev/null", "-D", "-",
                                                        "-w", "status=%{http_code}", "-H", "X-Agent-Timestamp: \(now)",
                                                        "-H", "X-Agent-Signature: \(signature)", "--data-binary", "@" + bodyFile,
                                                        "http://127.0.0.1:\(port)/ingest"])
            let status = r.output.components(separatedBy: "status=").last.flatMap { Int($0.prefix(3)) } ?? 0
            let retry = r.output.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
            return (status, retry)
        }
        let bad = "sha256=" + String(repeating: "0", count: 64)
        for _ in 0..<3 { #expect(try await post(from: "127.0.0.1", signature: bad).status == 401) }
        let refused = try await post(from: "127.0.0.1", signature: bad)
        #expect(refused.status == 429 && (1...60).contains(refused.retryAfter ?? 0), "\(refused)")
        #expect(try await post(from: "127.0.0.1", signature: good).status == 429, "the address waits, whatever it sends")
        #expect(try await post(from: "127.0.0.2", signature: good).status == 200, "another address is served")
        let counts = ServerBinaryTests.samples(try await httpGet("http://127.0.0.1:\(port)/metrics").body)
        #expect(counts[#"monitoring_server_requests_total{code="429",outcome="limited"}"#] == 2)
        #expect(counts[#"monitoring_server_requests_total{code="401",outcome="bad_signature"}"#] == 3)
        #expect(server.stderr.components(separatedBy: "client refused for failed requests").count == 2, "logged once")
    }

    /// `--tls-cert`/`--tls-key`: the port speaks HTTPS only, a real agent trusting the CA
    /// (`--ca-file`) delivers through it, and a SIGHUP serves a renewed certificate to new
    /// connections; files that cannot be read on reload keep the one in use, logged without the
    /// key.
    @Test func servesHTTPSAndReloadsItsCertificate() async throws {
        let dir = Paths.tempDir("server-tls")
        _ = writeSecret(dir, secret)
        for sub in ["/first", "/second"] { try FileManager.default.createDirectory(atPath: dir + sub, withIntermediateDirectories: true) }
        let first = try await makeTestPKI(dir + "/first"), second = try await makeTestPKI(dir + "/second")
        let cert = dir + "/server.pem", key = dir + "/server.key"
        func install(_ pki: (ca: String, cert: String, key: String, wrongCert: String, wrongKey: String)) throws {
            for (from, to) in [(pki.cert, cert), (pki.key, key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try install(first)
        let port = freePort()
        let server = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)",
                                                                   "--data", dir + "/data", "--tls-cert", cert, "--tls-key", key], dir: dir)
        defer { server.stop() }
        try await eventually("server listening") { server.stderr.contains("server listening") }
        #expect(server.stderr.contains("scheme=https") && server.stderr.contains("TLS certificate valid until"))
        func healthz(trusting ca: String, scheme: String = "https") async throws -> (status: Int32, output: String) {
            try await runTool("/usr/bin/curl", ["-sS", "-m", "5", "--cacert", ca, "\(scheme)://127.0.0.1:\(port)/healthz"])
        }
        let ok = try await healthz(trusting: first.ca)
        #expect(ok.status == 0 && ok.output.contains(#""database":"up""#), "\(ok.output)")
        #expect(try await healthz(trusting: first.ca, scheme: "http").status != 0, "no plain HTTP on a TLS port")
        #expect(try await healthz(trusting: second.ca).status != 0, "another CA's client refuses the certificate")

        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "https://127.0.0.1:\(port)/ingest", "--secret-file", dir + "/secret", "--ca-file", first.ca, "--interval", "0.5",
            "--queue-dir", dir + "/queue", "--health-addr", "127.0.0.1:\(freePort())", "--docker-socket", "none", "--auth-source", "none"], dir: dir)
        defer { agent.stop() }
        let db = try PayloadDatabase(path: dir + "/data/monitoring.sqlite")
        try await eventually(timeout: 20, "payloads over HTTPS") { try Self.count(db) >= 2 }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        #expect(!agent.stderr.contains("send failed"), "\(agent.stderr.suffix(1500))")

        // Renewed: new connections get the new certificate.
        try install(second)
        func served() -> Int { server.stderr.components(separatedBy: "TLS certificate valid until").count - 1 }
        let before = served()
        server.signal(SIGHUP)
        try await eventually("reloaded") { served() > before }
        #expect(try await healthz(trusting: second.ca).status == 0)
        #expect(try await healthz(trusting: first.ca).status != 0, "the old certificate is no longer served")

        // Broken on reload: the certificate in use stays, and the log shows no key.
        FileManager.default.createFile(atPath: key, contents: Data("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n".utf8))
        server.signal(SIGHUP)
        try await eventually("the failed reload logged") { server.stderr.contains("reload on SIGHUP failed") }
        #expect(server.stderr.contains("--tls-key: cannot read a PEM private key"))
        #expect(try await healthz(trusting: second.ca).status == 0, "still serving the renewed certificate")
        let keyText = try String(contentsOfFile: second.key, encoding: .utf8).split(separator: "\n")[1]
        #expect(!server.stderr.contains("not a key") && !server.stderr.contains(keyText), "no key material in the log")
    }

    /// Without `--dashboard-users` on an address beyond loopback, the server says the dashboard is open.
    @Test func anOpenDashboardOnANonLoopbackAddressIsWarned() async throws {
        let dir = Paths.tempDir("server-open")
        _ = writeSecret(dir, secret)
        let server = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "0.0.0.0:\(freePort())",
                                                                   "--data", dir + "/data"], dir: dir)
        defer { server.stop() }
        try await eventually("server listening") { server.stderr.contains("server listening") }
        #expect(server.stderr.contains("the dashboard has no sign-in"))
    }

    @Test(arguments: [["--retention-days", "0"], ["--listen", "nowhere"], ["--max-skew", "x"], ["--print-payloads", "xml"],
                      ["--database", "mysql://u:pw@h/d"], ["--dashboard-users", "/nonexistent/users"], ["--tls-cert", "/nonexistent/cert"],
                      ["--tls-key", "/nonexistent/key"], ["--tls-cert", "/nonexistent/cert", "--tls-key", "/nonexistent/key"],
                      ["--failure-limit", "-1"]])
    func badFlagsExitNamingTheFlag(_ args: [String]) async throws {
        let dir = Paths.tempDir("server-flags")
        _ = writeSecret(dir, secret)
        let p = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--data", dir + "/data"] + args, dir: dir)
        let code = await p.waitExit(timeout: 10)
        #expect(code == 64 && p.stderr.contains(args[0]), "\(p.stderr)")
    }
}

/// `monitoring-server --database`: two servers on one PostgreSQL, as behind a load balancer.
@Suite struct PostgresServerBinaryTests {
    let secret = "pg-Secret-\(UUID().uuidString.prefix(8))"

    /// A database that stops taking connections turns `/healthz` to 503 (a load balancer takes
    /// the receiver out) and `monitoring_server_database_up` to 0, logged once; when it takes
    /// them again both come back and ingest works.
    @Test func healthFollowsTheDatabase() async throws {
        let dir = Paths.tempDir("server-pg-health")
        _ = writeSecret(dir, secret)
        let url = try await PostgresPeer.freshDatabase("health")
        let name = String(url.split(separator: "/").last!.split(separator: "?")[0])
        let admin = try PostgresPeer.url()
        let port = freePort()
        let server = try Peer("server", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)"],
                              env: ["DATABASE_URL": url], dir: dir)
        defer { server.stop() }
        try await eventually(timeout: 30, "server listening") { server.stderr.contains("server listening") }
        let base = "http://127.0.0.1:\(port)"
        #expect(try await httpGet(base + "/healthz").status == 200)

        _ = try await PostgresPeer.psql(admin, "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        _ = try await PostgresPeer.psql(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        try await eventuallyAsync(timeout: 30, "/healthz says the database is down") {
            let r = try await httpGet(base + "/healthz")
            return r.status == 503 && r.body.contains(#""database":"down""#)
        }
        let down = ServerBinaryTests.samples(try await httpGet(base + "/metrics").body)
        #expect(down["monitoring_server_database_up"] == 0)
        #expect(server.stderr.components(separatedBy: "database does not answer").count == 2, "logged once: \(server.stderr.suffix(1500))")

        _ = try await PostgresPeer.psql(admin, "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        try await eventuallyAsync(timeout: 60, "/healthz says the database is back") { try await httpGet(base + "/healthz").status == 200 }
        #expect(server.stderr.contains("database answers again"))
        let now = Int64(Date().timeIntervalSince1970)
        let body = try ServerBinaryTests.body("00000000-0000-4000-8000-0000000005e4", at: now)
        let stored = try await ServerBinaryTests.ingest(port: port, body, secret: secret, at: now)
        #expect(stored.status == 200 && stored.body.contains(#""status":"ok""#), "\(stored)")
        #expect(ServerBinaryTests.samples(try await httpGet(base + "/metrics").body)["monitoring_server_database_up"] == 1)
    }

    /// Every payload sent to both servers at once is stored once: one answer `ok`, the other
    /// `duplicate`. A real agent's payloads land through one server and show on the other's
    /// dashboard. The database password never reaches a log.
    @Test func twoServersOnOneDatabaseStoreEachPayloadOnce() async throws {
        let dir = Paths.tempDir("server-pg")
        _ = writeSecret(dir, secret)
        let url = try await PostgresPeer.freshDatabase("servers")
        let withPassword = url.replacingOccurrences(of: "postgres://postgres@", with: "postgres://postgres:pw-\(secret)@")
        let ports = [freePort(), freePort()]
        var servers = [Peer]()
        for (i, port) in ports.enumerated() {
            servers.append(try Peer("server-\(i)", try Paths.serverBinary(), ["--secret-file", dir + "/secret", "--listen", "127.0.0.1:\(port)"],
                                    env: ["DATABASE_URL": withPassword], dir: dir))
        }
        defer { servers.forEach { $0.stop() } }
        for s in servers { try await eventually(timeout: 30, "\(s.name) listening") { s.stderr.contains("server listening") } }
        #expect(servers.allSatisfy { $0.stderr.contains("migrations=[\"v1\", \"v2\"]") }, "\(servers[0].stderr)")

        let now = Int64(Date().timeIntervalSince1970)
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for n in 0..<40 {
                let body = try PayloadCoding.encode(Payload(
                    payloadID: String(format: "00000000-0000-4000-8000-%012d", n), agentVersion: "t", host: "h\(n % 4)", serverID: "s\(n % 4)",
                    env: "dev", ownerTeam: "", timestamp: RFC3339.format(unixSeconds: now),
                    metrics: HostMetrics(cpuUsage: Double(n), memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0,
                                         tcpConnections: 0)))
                for port in ports {
                    group.addTask {
                        let r = try await ServerBinaryTests.ingest(port: port, body, secret: secret, at: now)
                        return r.status == 200 ? (r.body.contains("duplicate") ? "duplicate" : "ok") : "status \(r.status)"
                    }
                }
            }
            return try await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        }
        #expect(outcomes == ["ok": 40, "duplicate": 40], "\(outcomes)")
        let stored = try await PostgresPeer.psql(url, "SELECT count(*), count(DISTINCT payload_id) FROM payloads")
        #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == "40|40")

        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(ports[0])/ingest", "--secret-file", dir + "/secret", "--interval", "0.5",
            "--queue-dir", dir + "/queue", "--health-addr", "127.0.0.1:\(freePort())", "--docker-socket", "none",
            "--auth-source", "none", "--simulate-attack", "--server-id", "agent-\(secret.suffix(8))"], dir: dir)
        defer { agent.stop() }
        try await eventuallyAsync(timeout: 30, "the agent's alerts on the other server's alerts page") {
            let page = try await httpRequest("http://127.0.0.1:\(ports[1])/alerts?rule=BRUTE_FORCE", method: "GET")
            return page.status == 200 && page.body.contains("agent-\(secret.suffix(8))") && page.body.contains("203.0.113.66")
        }
        let fleet = try await httpRequest("http://127.0.0.1:\(ports[1])/", method: "GET")
        #expect(fleet.body.contains("agent-\(secret.suffix(8))") && fleet.body.contains("5 hosts"), "\(fleet.body.prefix(300))")
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        #expect(!agent.stderr.contains("send failed"))
        for s in servers {
            #expect(!s.stderr.contains("pw-\(secret)") && s.stderr.contains("postgres://postgres@127.0.0.1"), "the log names the database, never its password")
        }
    }
}
