import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real Prometheus server (Debian's `prometheus`, installed by scripts/test.sh) scrapes the
/// agent's /metrics and the server's (over HTTPS, trusting a test CA) on loopback; its query API
/// must return both's series, and
/// it loads the packaged alerting rules (packaging/prometheus/alerts.yml), every series they
/// watch present.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusScrapesTheAgent() async throws {
        let prometheus = "/usr/bin/prometheus"
        #expect(FileManager.default.isExecutableFile(atPath: prometheus), "prometheus missing: run through scripts/test.sh")
        let dir = Paths.tempDir("prom")
        let secretFile = writeSecret(dir, "prom-test-secret")
        let port = freePort()
        let pki = try await makeTestPKI(dir)
        let receiver = try Peer("server", try Paths.serverBinary(), ["--secret-file", secretFile, "--listen", "127.0.0.1:\(port)",
                                                                     "--data", dir + "/data", "--tls-cert", pki.cert, "--tls-key", pki.key], dir: dir)
        defer { receiver.stop() }
        try await eventually("server listening") { receiver.stderr.contains("server listening") }
        let health = freePort()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "https://127.0.0.1:\(port)/", "--ca-file", pki.ca, "--secret-file", secretFile, "--interval", "1",
            "--health-addr", "127.0.0.1:\(health)", "--queue-dir", dir + "/queue", "--auth-source", "none",
            "--docker-socket", "none", "--simulate-attack"], dir: dir)
        defer { agent.stop() }
        try await eventually("agent serving") { agent.stderr.contains("listening on 127.0.0.1:\(health)") }

        // JSON stays the default for plain clients.
        let plain = try await httpGet("http://127.0.0.1:\(health)/metrics")
        #expect(plain.body.hasPrefix("{"))

        let web = freePort()
        let rules = Paths.packageRoot + "/packaging/prometheus/alerts.yml"
        let config = """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        rule_files: ["\(rules)"]
        scrape_configs:
          - job_name: monitoring-agent
            static_configs:
              - targets: ["127.0.0.1:\(health)"]
          - job_name: monitoring-server
            scheme: https
            tls_config: {ca_file: "\(pki.ca)"}
            static_configs:
              - targets: ["127.0.0.1:\(port)"]
        """
        FileManager.default.createFile(atPath: dir + "/prometheus.yml", contents: Data(config.utf8))
        let server = try Peer("prometheus", prometheus, [
            "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/tsdb",
            "--web.listen-address=127.0.0.1:\(web)"], dir: dir)
        defer { server.stop() }

        func query(_ q: String) async -> [[String: Any]] {
            let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
            guard let r = try? await httpGet("http://127.0.0.1:\(web)/api/v1/query?query=\(encoded)"),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else { return [] }
            return result
        }
        try await eventuallyAsync(timeout: 40, "Prometheus has scraped the agent") {
            await !query("monitoring_agent_payloads_sent_total > 0").isEmpty
        }
        let up = await query(#"up{job="monitoring-agent"}"#)
        #expect((up.first?["value"] as? [Any])?.last as? String == "1", "the scrape succeeds: \(up)")
        let build = await query("monitoring_agent_build_info")
        #expect((build.first?["metric"] as? [String: String])?["version"] == "0.1.0")
        try await eventuallyAsync(timeout: 20, "alert series from --simulate-attack") {
            await !query(#"monitoring_agent_alerts_active{rule="BRUTE_FORCE"} >= 1"#).isEmpty
        }
        #expect(await !query("monitoring_agent_host_memory_usage_percent > 0").isEmpty)
        #expect(await !query(#"monitoring_agent_collector_duration_seconds{collector="host"}"#).isEmpty)
        try await eventuallyAsync(timeout: 20, "the server's count of stored payloads") {
            await !query(#"monitoring_server_requests_total{code="200",outcome="stored"} > 0"#).isEmpty
        }
        let serverUp = await query(#"up{job="monitoring-server"}"#)
        #expect((serverUp.first?["value"] as? [Any])?.last as? String == "1", "the server's scrape succeeds: \(serverUp)")
        #expect(await !query("monitoring_server_database_up == 1").isEmpty)
        #expect(await !query("monitoring_server_tls_certificate_expiry_seconds - time() > 86400").isEmpty, "the test certificate's two days")
        #expect(await !query(#"histogram_quantile(0.99, monitoring_server_store_duration_seconds_bucket) > 0"#).isEmpty)

        // The packaged rules loaded and evaluated without error, and each series they read exists.
        let loaded = try await httpGet("http://127.0.0.1:\(web)/api/v1/rules")
        let groups = ((try JSONSerialization.jsonObject(with: Data(loaded.body.utf8)) as? [String: Any])?["data"] as? [String: Any])?["groups"]
            as? [[String: Any]] ?? []
        let ruleEntries = groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        #expect(ruleEntries.count == 14 && ruleEntries.allSatisfy { $0["health"] as? String != "err" }, "\(loaded.body.prefix(2000))")
        let text = try String(contentsOfFile: rules, encoding: .utf8)
        let watched = Set(text.split(separator: "\n").filter { $0.contains("expr:") }.flatMap { line in
            line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).filter {
                $0.hasPrefix("monitoring_agent_") || $0.hasPrefix("monitoring_server_")
            }.map(String.init)
        })
        #expect(watched.count >= 10)
        // Polled: the clock skew gauge appears once the server's Date header has been read.
        for name in watched.sorted() {
            try await eventuallyAsync(timeout: 10, "\(name) scraped") { await !query(#"{__name__=""# + name + #""}"#).isEmpty }
        }
        server.signal(SIGTERM)
        _ = await server.waitExit(timeout: 10)
    }
}
