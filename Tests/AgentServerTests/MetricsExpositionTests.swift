import AgentCore
import AgentServer
import Foundation
import TestSupport
import Testing

@Suite struct MetricsExpositionTests {
    static let prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    @Test func contentNegotiation() {
        #expect(MetricsFormat.choose(accept: nil, format: nil) == .json)
        #expect(MetricsFormat.choose(accept: "*/*", format: nil) == .json)
        #expect(MetricsFormat.choose(accept: "application/json", format: nil) == .json)
        #expect(MetricsFormat.choose(accept: Self.prometheusAccept, format: nil) == .prometheus, "what Prometheus 2.x sends")
        #expect(MetricsFormat.choose(accept: "text/plain", format: nil) == .prometheus)
        #expect(MetricsFormat.choose(accept: "application/json, text/plain;q=0.5", format: nil) == .json)
        #expect(MetricsFormat.choose(accept: "text/plain;q=0.9, application/json;q=0.2", format: nil) == .prometheus)
        #expect(MetricsFormat.choose(accept: "application/json", format: "prometheus") == .prometheus)
        #expect(MetricsFormat.choose(accept: Self.prometheusAccept, format: "json") == .json)
    }

    static func snapshot(sent: Int) -> StatusSnapshot {
        var s = StatusSnapshot()
        s.startedAtUnix = 1000
        s.lastMetrics = HostMetrics(cpuUsage: 12.5, memoryUsage: 40, diskUsage: 70, networkRxBytesPerSec: 100,
                                    networkTxBytesPerSec: 50, tcpConnections: 3)
        s.lastAlerts = ["BRUTE_FORCE:192.0.2.1", "BRUTE_FORCE:192.0.2.2", "CPU_SPIKE"]
        s.lastScore = 1.4
        s.payloadsBuilt = sent + 1
        s.payloadsSent = sent
        s.sendFailures = ["status_503": 2, "transport": 1]
        s.queueLength = 1
        var host = SourceStatus()
        host.lastDurationSeconds = 0.0004
        host.errors = ["E_PROC_PARSE": 1]
        var auth = SourceStatus()
        auth.counters = [SourceCounter("monitoring_agent_auth_lines_total", "Auth log lines read", 65),
                         SourceCounter("monitoring_agent_auth_failures_total", "Failed login attempts counted", 17)]
        var docker = SourceStatus()
        docker.counters = [SourceCounter("monitoring_agent_docker_log_lines_total", "Container log lines streamed", 42)]
        s.sources = ["host": host, "auth": auth, "docker": docker]
        s.detectorsDurationSeconds = 0.00001
        s.docker = .connected
        return s
    }

    @Test func exposesHostAlertsAndCountersThatOnlyGrow() throws {
        let e = PrometheusExporter(version: "9.9.9")
        _ = e.render(Self.snapshot(sent: 5), nowUnix: 1060)
        let text = String(decoding: e.render(Self.snapshot(sent: 7), nowUnix: 1060), as: UTF8.self)
        for line in [
            #"monitoring_agent_build_info{version="9.9.9"} 1.0"#,
            "monitoring_agent_host_cpu_usage_percent 12.5",
            #"monitoring_agent_alerts_active{rule="BRUTE_FORCE"} 2.0"#,
            #"monitoring_agent_alerts_active{rule="SHELL_IN_CONTAINER"} 0.0"#,
            "monitoring_agent_payloads_sent_total 7",
            #"monitoring_agent_send_failures_total{reason="status_503"} 2"#,
            "monitoring_agent_auth_failures_total 17",
            #"monitoring_agent_collector_duration_seconds{collector="host"} 0.0004"#,
            #"monitoring_agent_collector_duration_seconds{collector="detectors"} 1e-05"#,
            #"monitoring_agent_source_errors_total{source="host"} 1"#,
            #"monitoring_agent_collector_errors_total{code="E_PROC_PARSE"} 1"#,
            "monitoring_agent_docker_connected 1.0",
            "monitoring_agent_docker_log_lines_total 42",
            "# TYPE monitoring_agent_payloads_sent_total counter",
            "# HELP monitoring_agent_payloads_sent_total Payloads the server acknowledged with 2xx",
            "monitoring_agent_uptime_seconds 60.0",
        ] {
            #expect(text.contains(line + "\n"), "missing: \(line)")
        }
        // A snapshot with a lower value (a restarted counter) never moves a Prometheus counter back.
        let again = String(decoding: e.render(Self.snapshot(sent: 3), nowUnix: 1061), as: UTF8.self)
        #expect(again.contains("monitoring_agent_payloads_sent_total 7\n"))
    }

    /// promtool (Debian's prometheus package, installed by scripts/test.sh) lints the exposition.
    @Test func promtoolAcceptsTheExposition() throws {
        let promtool = "/usr/bin/promtool"
        #expect(FileManager.default.isExecutableFile(atPath: promtool), "promtool missing: run through scripts/test.sh")
        let e = PrometheusExporter(version: "1.0.0")
        let body = e.render(Self.snapshot(sent: 1), nowUnix: 2000)
        let out = try runProcess(promtool, ["check", "metrics"], stdin: body)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: promtool)
        p.arguments = ["check", "metrics"]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "promtool check metrics: \(out)")
    }
}
