import AgentCore
import Prometheus
import Synchronization

/// `/metrics` in the Prometheus text exposition format (0.0.4), produced by swift-prometheus from
/// the series every module's status part reports (`StatusReport.samples`), each with HELP and
/// TYPE. One registry per agent.
public final class PrometheusExporter: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    private let registry = PrometheusCollectorRegistry()
    /// Counters already exported, by series key, with the value they were advanced to.
    private let exported = Mutex<[String: (value: Int64, counter: Counter)]>([:])
    private let lock = Mutex(())

    public init(version: String) {
        registry.makeGauge(name: "monitoring_agent_build_info", labels: [("version", version)],
                           help: "Always 1; the label carries the agent version").set(to: 1.0)
    }

    /// Updates every series from `report` and returns the exposition text. Counters are
    /// advanced by the difference to what was exported, so they only ever grow; a counter series
    /// the report no longer carries (a removed container's) is unregistered, so series do not
    /// pile up over churn.
    public func render(_ report: StatusReport) -> [UInt8] {
        lock.withLock { _ in
            var reported = Set<String>()
            for sample in report.samples {
                let labels = sample.labels.map { ($0.name, $0.value) }
                switch sample.kind {
                case .gauge:
                    registry.makeGauge(name: sample.name, labels: labels, help: sample.help).set(sample.value)
                case .counter:
                    let key = sample.name + labels.map { "|\($0.0)=\($0.1)" }.joined()
                    reported.insert(key)
                    let value = Int64(sample.value)
                    let c = registry.makeCounter(name: sample.name, labels: labels, help: sample.help)
                    let delta = exported.withLock { seen -> Int64 in
                        let d = value - (seen[key]?.value ?? 0)
                        if d > 0 || seen[key] == nil { seen[key] = (value, c) }
                        return d
                    }
                    if delta > 0 { c.increment(by: delta) }
                }
            }
            let gone = exported.withLock { seen -> [Counter] in
                let keys = seen.keys.filter { !reported.contains($0) }
                return keys.compactMap { seen.removeValue(forKey: $0)?.counter }
            }
            for c in gone { registry.unregisterCounter(c) }
            return registry.emitToBuffer()
        }
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
