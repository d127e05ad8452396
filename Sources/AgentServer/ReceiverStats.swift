import AgentCore
import Prometheus

/// The receiver's own figures, for Prometheus: every request by its answer, the bytes read, the
/// payloads each key verified, how long the store took per payload, what retention removed and
/// whether the database answers. Labels carry only fixed words, status codes and the ids of the
/// operator's keyring (a bounded set, the key that verified, never the id a request claims): no
/// host, payload or secret, so the series stay few whatever agents send.
public final class ReceiverStats: Sendable {
    public static let contentType = PrometheusExporter.contentType
    /// The `key_id` of payloads verified by the shared secret (no keyring id can contain '(').
    public static let sharedSecretLabel = "(secret)"

    private let registry = PrometheusCollectorRegistry()
    private let storeDuration: DurationHistogram
    private let bodyBytes: Counter
    private let databaseUp: Gauge
    private let databaseProbe: Gauge
    private let retentionDeleted: Counter
    private let retentionDropped: Counter
    private let retentionFailures: Counter
    private let tls: ServerTLS?
    private let certificateExpiry: Gauge?

    /// With `tls`, each render also reports when the certificate served now expires.
    public init(version: String, tls: ServerTLS? = nil) {
        self.tls = tls
        registry.makeGauge(descriptor: Self.name("build", "info", "Always 1; the label carries the server's version"),
                           labels: [("version", version)]).set(to: 1.0)
        storeDuration = registry.makeDurationHistogram(
            descriptor: Self.name("store_duration", "seconds", "Time from a verified payload to its commit (or its refusal) in the store"),
            buckets: [.milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .microseconds(2_500_000), .seconds(5), .seconds(10)])
        bodyBytes = registry.makeCounter(descriptor: Self.name("request_body_bytes", "total",
                                                                     "Bytes of request bodies read, as sent (before gzip decoding)"))
        databaseUp = registry.makeGauge(descriptor: Self.name("database", "up",
                                                                 "1 when the database answered the last probe (a scrape or /healthz) in time, else 0"))
        databaseProbe = registry.makeGauge(descriptor: Self.name("database_probe", "seconds",
                                                                    "How long the database took to answer the last probe"))
        retentionDeleted = registry.makeCounter(descriptor: Self.name("retention_deleted_payloads", "total",
                                                                      "Payloads deleted one by one by retention"))
        retentionDropped = registry.makeCounter(descriptor: Self.name("retention_dropped_partitions", "total",
                                                                      "Days dropped whole by retention (a day's partition of every table)"))
        retentionFailures = registry.makeCounter(descriptor: Self.name("retention_failures", "total", "Retention passes that failed"))
        certificateExpiry = tls == nil ? nil
            : registry.makeGauge(descriptor: Self.name("tls_certificate_expiry", "seconds", "When the TLS certificate served expires, unix seconds"))
        // Every counter an alert rule watches exists from the start at 0: increase() over a series
        // that first appears at 1 is 0, and the first failure would go unseen.
        for (status, outcome) in [(200, "stored"), (200, "duplicate"), (503, "store_failed"), (429, "limited")] { answered(status: status, outcome: outcome, count: 0) }
        for kind in IngestRejection.Kind.allCases { answered(status: kind.status, outcome: kind.rawValue, count: 0) }
    }

    /// One request answered: `outcome` is a fixed word (`stored`, `duplicate`, a rejection kind...).
    public func answered(status: Int, outcome: String, count: Int64 = 1) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "Ingest requests by the status answered and why"),
                             labels: [("code", "\(status)"), ("outcome", outcome)]).increment(by: count)
    }

    public func read(bodyBytes n: Int) { bodyBytes.increment(by: Int64(n)) }

    /// A payload verified by the keyring key `keyID` (nil: the shared secret).
    public func verified(keyID: String?) {
        registry.makeCounter(descriptor: Self.name("verified_payloads", "total", "Payloads whose signature verified, by the key that verified them"),
                             labels: [("key_id", keyID ?? Self.sharedSecretLabel)]).increment()
    }

    public func stored(after duration: Duration) { storeDuration.record(duration) }

    /// What one retention pass removed.
    public func expired(_ gone: Int, days: Int) {
        retentionDeleted.increment(by: Int64(gone))
        retentionDropped.increment(by: Int64(days))
    }

    public func retentionFailed() {
        retentionFailures.increment()
    }

    /// The last database probe: its time when it answered, nil when it failed or timed out.
    public func probed(_ answered: Duration?) {
        databaseUp.set(to: answered == nil ? 0 : 1)
        if let answered { databaseProbe.set(to: answered.inSeconds) }
    }

    public func render() -> [UInt8] {
        if let tls, let certificateExpiry { certificateExpiry.set(to: Double(tls.notValidAfter)) }
        return registry.emitToBuffer()
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "monitoring_server", metricName: metric, unitName: unit, helpText: help)
    }
}
