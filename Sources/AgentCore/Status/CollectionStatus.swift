/// The collection cycle's status: the last payload's metrics, alerts and score, and every
/// signal source's time, errors and counters.
public struct CollectionStatus: StatusReporting, Equatable {
    public var lastMetrics: HostMetrics?
    public var lastAlerts: [String] = []
    public var lastScore: Double = 0
    public var payloadsBuilt = 0
    /// Every signal source by name.
    public var sources: [String: SourceStatus] = [:]
    /// Seconds the last cycle spent in the detectors.
    public var detectorsDurationSeconds: Double = 0
    /// The detectors' own counters (what they dropped or forgot to stay bounded).
    public var detectorCounters: [SourceCounter] = []

    public init() {}

    public func report(into r: inout StatusReport) {
        let m = lastMetrics
        // The spec's /metrics JSON; a metric that could not be read is null.
        r.metrics["cpu_usage"] = .optional(m?.cpuUsage)
        r.metrics["memory_usage"] = .optional(m?.memoryUsage)
        r.metrics["local_alerts"] = .strings(lastAlerts)
        r.health["sources"] = .object(sources.mapValues { s in
            .object(["errors": .int(s.errorTotal), "last_duration_seconds": .double(s.lastDurationSeconds)])
        })

        // A metric that could not be read is NaN (Prometheus' "no value"), never a fake 0.
        r.gauge("monitoring_agent_host_cpu_usage_percent", "CPU busy over the last interval, percent", m?.cpuUsage ?? .nan)
        r.gauge("monitoring_agent_host_memory_usage_percent", "Memory in use (MemTotal - MemAvailable), percent", m?.memoryUsage ?? .nan)
        r.gauge("monitoring_agent_host_disk_usage_percent", "Used share of --disk-path, percent", m?.diskUsage ?? .nan)
        r.gauge("monitoring_agent_host_network_receive_bytes_per_second", "Received bytes per second, loopback excluded",
                m?.networkRxBytesPerSec ?? .nan)
        r.gauge("monitoring_agent_host_network_transmit_bytes_per_second", "Sent bytes per second, loopback excluded",
                m?.networkTxBytesPerSec ?? .nan)
        r.gauge("monitoring_agent_host_tcp_connections", "TCP connections in ESTABLISHED or CLOSE-WAIT, IPv4 and IPv6 (Tcp CurrEstab)",
                m?.tcpConnections.map(Double.init) ?? .nan)

        var active: [AlertRule: Int] = [:]
        for a in lastAlerts.compactMap(Alert.init(wireValue:)) { active[a.rule, default: 0] += 1 }
        for rule in AlertRule.allCases {
            r.gauge("monitoring_agent_alerts_active", "Alerts in the last payload, by rule", [("rule", rule.rawValue)], Double(active[rule] ?? 0))
        }
        r.gauge("monitoring_agent_alert_score", "Score of the last payload (sum of alert weights)", lastScore)
        r.counter("monitoring_agent_payloads_built_total", "Payloads built by the collector", payloadsBuilt)

        // Sources, generically: time and errors by source, and each source's own counters.
        let duration = "Time the last cycle spent in each source and in the detectors"
        var errorsByCode: [String: Int] = [:]
        for (name, source) in sources.sorted(by: { $0.key < $1.key }) {
            r.gauge("monitoring_agent_collector_duration_seconds", duration, [("collector", name)], source.lastDurationSeconds)
            r.counter("monitoring_agent_source_errors_total", "Read and parse errors, by source", [("source", name)], source.errorTotal)
            for (code, n) in source.errors { errorsByCode[code, default: 0] += n }
            for c in source.counters { r.counter(c.name, c.help, c.labels.map { ($0.name, $0.value) }, c.value) }
        }
        r.gauge("monitoring_agent_collector_duration_seconds", duration, [("collector", "detectors")], detectorsDurationSeconds)
        for c in detectorCounters { r.counter(c.name, c.help, c.value) }
        for (code, n) in errorsByCode.sorted(by: { $0.key < $1.key }) {
            r.counter("monitoring_agent_collector_errors_total", "Collector errors (parse and read errors), by code", [("code", code)], n)
        }
    }
}

/// What the payload budget cut, since start (the collector's trims and the shipper's re-fits
/// after a 413 alike).
public struct TrimStatus: StatusReporting, Equatable {
    public var logs = 0
    public var events = 0
    public var alerts = 0

    public init() {}

    public mutating func count(_ trim: PayloadTrim) {
        logs += trim.logs
        events += trim.events
        alerts += trim.alerts
    }

    public func report(into r: inout StatusReport) {
        r.counter("monitoring_agent_payload_trimmed_log_lines_total", "Container log lines cut to keep payloads within --max-payload-bytes", logs)
        r.counter("monitoring_agent_payload_trimmed_events_total", "Container events cut to keep payloads within --max-payload-bytes", events)
        r.counter("monitoring_agent_payload_summarised_alerts_total",
                  "Alerts left out of local_alerts and summarised to keep payloads within --max-payload-bytes", alerts)
    }
}
