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

    /// A part standing in for another module's (the shipper's tests cover its real one).
    struct Sends: StatusReporting {
        var sent: Int
        func report(into r: inout StatusReport) {
            r.health["queue_length"] = .int(1)
            r.counter("monitoring_agent_payloads_sent_total", "Payloads the server acknowledged with 2xx", sent)
            r.counter("monitoring_agent_send_failures_total", "Failed send attempts, by reason", [("reason", "status_503")], 2)
        }
    }

    static func status(sent: Int, containers: KeyValuePairs<String, Int> = ["web": 3]) -> AgentStatus {
        let status = AgentStatus(startedAtUnix: 1000)
        var c = CollectionStatus()
        c.lastMetrics = HostMetrics(cpuUsage: 12.5, memoryUsage: 40, diskUsage: 70, networkRxBytesPerSec: 100,
                                    networkTxBytesPerSec: 50, tcpConnections: 3)
        c.lastAlerts = ["BRUTE_FORCE:192.0.2.1", "BRUTE_FORCE:192.0.2.2", "CPU_SPIKE"]
        c.lastScore = 1.4
        c.payloadsBuilt = sent + 1
        var host = SourceStatus()
        host.lastDurationSeconds = 0.0004
        host.errors = ["E_PROC_PARSE": 1]
        var auth = SourceStatus()
        auth.counters = [SourceCounter("monitoring_agent_auth_lines_total", "Auth log lines read", 65),
                         SourceCounter("monitoring_agent_auth_failures_total", "Failed login attempts counted", 17)]
        var docker = SourceStatus()
        docker.counters = [SourceCounter("monitoring_agent_docker_log_lines_total", "Container log lines streamed", 42)]
            + containers.map { SourceCounter("monitoring_agent_docker_container_log_lines_dropped_total", "Dropped, by container",
                                             $0.value, labels: [("container", $0.key)]) }
        c.sources = ["host": host, "auth": auth, "docker": docker]
        c.detectorsDurationSeconds = 0.00001
        _ = status.register(c)
        _ = status.register(Sends(sent: sent))
        _ = status.register(DockerConnectionStatus(.connected))
        return status
    }

    @Test func exposesHostAlertsAndCountersThatOnlyGrow() throws {
        let e = PrometheusExporter(version: "9.9.9")
        _ = e.render(Self.status(sent: 5).report(nowUnix: 1060))
        let text = String(decoding: e.render(Self.status(sent: 7).report(nowUnix: 1060)), as: UTF8.self)
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
        // A part reporting a lower value (a restarted counter) never moves a Prometheus counter back.
        let again = String(decoding: e.render(Self.status(sent: 3).report(nowUnix: 1061)), as: UTF8.self)
        #expect(again.contains("monitoring_agent_payloads_sent_total 7\n"))
    }

    /// A removed container's series leave the exposition (churn must not pile up series); one
    /// that comes back starts from what its source reports.
    @Test func seriesNoLongerReportedLeave() {
        let e = PrometheusExporter(version: "1")
        func render(_ c: KeyValuePairs<String, Int>) -> String {
            String(decoding: e.render(Self.status(sent: 1, containers: c).report(nowUnix: 1060)), as: UTF8.self)
        }
        let both = render(["web": 3, "db": 5])
        #expect(both.contains(#"monitoring_agent_docker_container_log_lines_dropped_total{container="web"} 3"#))
        #expect(both.contains(#"monitoring_agent_docker_container_log_lines_dropped_total{container="db"} 5"#))
        let one = render(["web": 4])
        #expect(one.contains(#"monitoring_agent_docker_container_log_lines_dropped_total{container="web"} 4"#))
        #expect(!one.contains(#"container="db""#))
        let none = render([:])
        #expect(!none.contains("monitoring_agent_docker_container_log_lines_dropped_total"))
        #expect(none.contains("monitoring_agent_docker_log_lines_total 42\n"))
        #expect(render(["db": 1]).contains(#"monitoring_agent_docker_container_log_lines_dropped_total{container="db"} 1"#))
    }

    /// /healthz and the /metrics JSON are the parts' fields, with unknown values as null.
    @Test func healthAndMetricsJSONComeFromTheParts() throws {
        let r = Self.status(sent: 1).report(nowUnix: 1060)
        let health = String(decoding: ReportCoding.encode(r.health), as: UTF8.self)
        #expect(health.hasPrefix(#"{"docker":"connected","queue_length":1,"sources":{"auth":{"errors":0,"#), "\(health)")
        #expect(health.hasSuffix(#""uptime_seconds":60}"#), "\(health)")
        let metrics = String(decoding: ReportCoding.encode(r.metrics), as: UTF8.self)
        #expect(metrics == #"{"cpu_usage":12.5,"local_alerts":["BRUTE_FORCE:192.0.2.1","BRUTE_FORCE:192.0.2.2","CPU_SPIKE"],"memory_usage":40}"#)
        let empty = String(decoding: ReportCoding.encode(AgentStatus(startedAtUnix: 0).report(nowUnix: 0).metrics), as: UTF8.self)
        #expect(empty == "{}")
        let fresh = AgentStatus(startedAtUnix: 0)
        _ = fresh.register(CollectionStatus())
        #expect(String(decoding: ReportCoding.encode(fresh.report(nowUnix: 0).metrics), as: UTF8.self)
                == #"{"cpu_usage":null,"local_alerts":[],"memory_usage":null}"#, "unknown before the first cycle: null")
    }

    /// promtool (Debian's prometheus package, installed by scripts/test.sh) lints the exposition.
    @Test func promtoolAcceptsTheExposition() async throws {
        let promtool = "/usr/bin/promtool"
        #expect(FileManager.default.isExecutableFile(atPath: promtool), "promtool missing: run through scripts/test.sh")
        let e = PrometheusExporter(version: "1.0.0")
        let body = e.render(Self.status(sent: 1).report(nowUnix: 2000))
        let (status, out) = try await runTool(promtool, ["check", "metrics"], stdin: body)
        #expect(status == 0, "promtool check metrics: \(out)")
    }
}
