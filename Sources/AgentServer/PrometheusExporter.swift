import AgentCore
import Prometheus
import Synchronization

/// `/metrics` in the Prometheus text exposition format (0.0.4), produced by swift-prometheus from
/// the agent's status snapshot: host metrics, active alerts by rule, and the agent's own counters
/// and gauges, each with HELP and TYPE. One registry per agent. Counters are advanced by the
/// difference to the snapshot, so they only ever grow, as Prometheus expects.
public final class PrometheusExporter: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    private let registry = PrometheusCollectorRegistry()
    /// Counter values already exported, by series key.
    private let exported = Mutex<[String: Int64]>([:])
    private let lock = Mutex(())

    public init(version: String) {
        registry.makeGauge(name: "monitoring_agent_build_info", labels: [("version", version)],
                           help: "Always 1; the label carries the agent version").set(to: 1.0)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(name: name, labels: labels, help: help)
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)] = [], to value: Int) {
        let c = registry.makeCounter(name: name, labels: labels, help: help)
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLock { seen -> Int64 in
            let d = Int64(value) - (seen[key] ?? 0)
            if d > 0 { seen[key] = Int64(value) }
            return d
        }
        if delta > 0 { c.increment(by: delta) }
    }

    /// Updates every series from `s` and returns the exposition text.
    public func render(_ s: StatusSnapshot, nowUnix: Int64) -> [UInt8] {
        lock.withLock { _ in
            update(s, nowUnix: nowUnix)
            return registry.emitToBuffer()
        }
    }

    private func update(_ s: StatusSnapshot, nowUnix: Int64) {
        let m = s.lastMetrics
        // A metric that could not be read is NaN (Prometheus' "no value"), never a fake 0.
        gauge("monitoring_agent_host_cpu_usage_percent", "CPU busy over the last interval, percent").set(m?.cpuUsage ?? .nan)
        gauge("monitoring_agent_host_memory_usage_percent", "Memory in use (MemTotal - MemAvailable), percent").set(m?.memoryUsage ?? .nan)
        gauge("monitoring_agent_host_disk_usage_percent", "Used share of --disk-path, percent").set(m?.diskUsage ?? .nan)
        gauge("monitoring_agent_host_network_receive_bytes_per_second", "Received bytes per second, loopback excluded")
            .set(m?.networkRxBytesPerSec ?? .nan)
        gauge("monitoring_agent_host_network_transmit_bytes_per_second", "Sent bytes per second, loopback excluded")
            .set(m?.networkTxBytesPerSec ?? .nan)
        gauge("monitoring_agent_host_tcp_connections", "TCP connections in ESTABLISHED or CLOSE-WAIT, IPv4 and IPv6 (Tcp CurrEstab)").set(m?.tcpConnections.map(Double.init) ?? .nan)

        var active: [AlertRule: Int] = [:]
        for a in s.lastAlerts.compactMap(Alert.init(wireValue:)) { active[a.rule, default: 0] += 1 }
        for rule in AlertRule.allCases {
            gauge("monitoring_agent_alerts_active", "Alerts in the last payload, by rule", [("rule", rule.rawValue)])
                .set(Double(active[rule] ?? 0))
        }
        gauge("monitoring_agent_alert_score", "Score of the last payload (sum of alert weights)").set(s.lastScore)

        counter("monitoring_agent_payloads_built_total", "Payloads built by the collector", to: s.payloadsBuilt)
        counter("monitoring_agent_payloads_sent_total", "Payloads the server acknowledged with 2xx", to: s.payloadsSent)
        counter("monitoring_agent_payloads_rejected_total", "Payloads the server refused for good (4xx)", to: s.rejectedPayloads)
        counter("monitoring_agent_payload_trimmed_log_lines_total", "Container log lines cut to keep payloads within --max-payload-bytes", to: s.trimmedLogs)
        counter("monitoring_agent_payload_trimmed_events_total", "Container events cut to keep payloads within --max-payload-bytes", to: s.trimmedEvents)
        counter("monitoring_agent_payload_summarised_alerts_total", "Alerts left out of local_alerts and summarised to keep payloads within --max-payload-bytes", to: s.summarisedAlerts)
        for (reason, n) in s.sendFailures.sorted(by: { $0.key < $1.key }) {
            counter("monitoring_agent_send_failures_total", "Failed send attempts, by reason", [("reason", reason)], to: n)
        }
        counter("monitoring_agent_send_retries_total", "Send attempts retried within a cycle", to: s.retries)
        gauge("monitoring_agent_queue_length", "Payloads waiting for delivery").set(Double(s.queueLength))
        gauge("monitoring_agent_queue_bytes", "Bytes the queue holds").set(Double(s.queueBytes))
        counter("monitoring_agent_queue_dropped_payloads_total", "Payloads dropped to stay within the queue bounds", to: s.droppedPayloads)
        counter("monitoring_agent_queue_corrupt_records_total", "Queue records found corrupt and skipped", to: s.queueCorruptRecords)
        gauge("monitoring_agent_queue_disk_available", "1 when the disk queue accepts writes, 0 when it fell back to memory")
            .set(to: s.queueError == nil ? 1.0 : 0.0)
        if let skew = s.clockSkewSeconds {
            gauge("monitoring_agent_clock_skew_seconds", "This host's clock minus the server's Date").set(Double(skew))
        }

        // Sources, generically: time and errors by source, and each source's own counters.
        var errorsByCode: [String: Int] = [:]
        for (name, source) in s.sources.sorted(by: { $0.key < $1.key }) {
            gauge("monitoring_agent_collector_duration_seconds", "Time the last cycle spent in each source and in the detectors",
                  [("collector", name)]).set(source.lastDurationSeconds)
            counter("monitoring_agent_source_errors_total", "Read and parse errors, by source", [("source", name)], to: source.errorTotal)
            for (code, n) in source.errors { errorsByCode[code, default: 0] += n }
            for c in source.counters { counter(c.name, c.help, to: c.value) }
        }
        gauge("monitoring_agent_collector_duration_seconds", "Time the last cycle spent in each source and in the detectors",
              [("collector", "detectors")]).set(s.detectorsDurationSeconds)
        for (code, n) in errorsByCode.sorted(by: { $0.key < $1.key }) {
            counter("monitoring_agent_collector_errors_total", "Collector errors (parse and read errors), by code", [("code", code)], to: n)
        }
        gauge("monitoring_agent_docker_connected", "1 when the Docker Engine API answers").set(to: s.docker == .connected ? 1.0 : 0.0)
        gauge("monitoring_agent_uptime_seconds", "Seconds since the agent started").set(Double(max(0, nowUnix - s.startedAtUnix)))
    }
}

/// `/metrics` content negotiation: Prometheus text when `?format=prometheus`, or when the Accept
/// header prefers `text/plain` or `application/openmetrics-text` (as Prometheus sends) over JSON;
/// JSON otherwise (no Accept, `*/*`, `application/json`, `?format=json`).
public enum MetricsFormat: Equatable, Sendable {
    case json, prometheus

    public static func choose(accept: String?, format: String?) -> MetricsFormat {
        if let format { return format.lowercased() == "prometheus" ? .prometheus : .json }
        guard let accept else { return .json }
        var json = -1.0, text = -1.0
        for part in accept.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let type = fields.first else { continue }
            var q = 1.0
            for f in fields.dropFirst() where f.hasPrefix("q=") { q = Double(f.dropFirst(2)) ?? 0 }
            switch type {
            case "application/json": json = max(json, q)
            case "text/plain", "application/openmetrics-text": text = max(text, q)
            default: break
            }
        }
        return text > json ? .prometheus : .json
    }
}
