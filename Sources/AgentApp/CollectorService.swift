import AgentCore
import AgentDetect
import AgentShipping
import Logging
import ServiceLifecycle

/// Who this host is, stamped on every payload.
public struct HostIdentity: Sendable {
    public var host: String
    public var serverID: String
    public var env: String
    public var ownerTeam: String
    public var agentVersion: String
}

/// Every interval: one batch from every source (timed, errors counted per source), the
/// detectors' findings, one payload within the size budget, handed to the shipper. Runs until
/// graceful shutdown.
public struct CollectorService<C: Clock>: Service where C.Duration == Duration, C.Instant == ContinuousClock.Instant {
    let identity: HostIdentity
    let interval: Duration
    let sources: [any SignalSource]
    let detectors: DetectorSet
    let shipper: Shipper<C>
    /// The collection's part of the agent's status, and the payload budget's cut counts.
    let status: StatusCell<CollectionStatus>
    let trims: StatusCell<TrimStatus>
    let clock: C
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    /// Payloads carry `simulated: true` (`--simulate-attack`).
    let simulated: Bool
    /// Largest payload body (`PayloadBudget`).
    let maxPayloadBytes: Int

    public init(identity: HostIdentity, interval: Duration, sources: [any SignalSource], detectors: DetectorSet,
                shipper: Shipper<C>, status: StatusCell<CollectionStatus>, trims: StatusCell<TrimStatus>, clock: C, wallClock: @escaping @Sendable () -> Int64,
                logger: Logger, simulated: Bool = false, maxPayloadBytes: Int = 1 << 20) {
        self.identity = identity
        self.interval = interval
        self.sources = sources
        self.detectors = detectors
        self.shipper = shipper
        self.status = status
        self.trims = trims
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        self.simulated = simulated
        self.maxPayloadBytes = maxPayloadBytes
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await repeatEvery(interval, clock: clock) { await cycle() }
        }
        logger.debug("collector stopped")
    }

    /// One collection cycle: every source in the order listed, then the detectors.
    func cycle() async {
        let time = CycleTime(wall: wallClock(), instant: clock.now)
        var metrics = HostMetrics(cpuUsage: nil, memoryUsage: nil, diskUsage: nil, networkRxBytesPerSec: nil,
                                  networkTxBytesPerSec: nil, tcpConnections: nil)
        var events: [DockerEvent] = [], logs: [LogEntry] = []
        var raised = Findings()
        var reports: [(name: String, seconds: Double, errors: [AgentError], counters: [SourceCounter])] = []
        for source in sources {
            let started = ContinuousClock.now
            let batch = await source.collect(at: time)
            reports.append((source.name, (ContinuousClock.now - started).inSeconds, batch.errors, batch.counters))
            for e in batch.errors {
                logger.warning("source error", metadata: ["source": "\(source.name)", "code": "\(e.code.rawValue)", "error": "\(e)"])
            }
            if let m = batch.metrics { metrics = m }
            events += batch.events
            logs += batch.logs
            detectors.observe(batch.observations, at: time.wall)
            raised.add(batch.findings)
        }
        let detectStarted = ContinuousClock.now
        var findings = detectors.cycle(at: time.wall)
        findings.add(raised) // each alert once per payload
        findings = findings.capped(perRule: detectors.maxAlertsPerRule)
        let detectSeconds = (ContinuousClock.now - detectStarted).inSeconds
        let detectorCounters = detectors.counters()
        logAlerts(findings)
        let payload = Payload(
            payloadID: PayloadID.random(), agentVersion: identity.agentVersion, host: identity.host,
            serverID: identity.serverID, env: identity.env, ownerTeam: identity.ownerTeam,
            timestamp: RFC3339.format(unixSeconds: time.wall), metrics: metrics, dockerEvents: events, logs: logs,
            alerts: findings.alerts, alertsDetail: findings.details, omitted: findings.omitted, simulated: simulated)
        status.update {
            $0.lastMetrics = metrics
            $0.lastAlerts = payload.localAlerts
            $0.payloadsBuilt += 1
            $0.lastScore = payload.score
            $0.detectorsDurationSeconds = detectSeconds
            $0.detectorCounters = detectorCounters
            for r in reports {
                var source = $0.sources[r.name] ?? SourceStatus()
                source.lastDurationSeconds = r.seconds
                source.counters = r.counters
                for e in r.errors { source.errors[e.code.rawValue, default: 0] += 1 }
                $0.sources[r.name] = source
            }
        }
        do {
            let (body, trim) = try PayloadBudget.fit(payload, maxBytes: maxPayloadBytes)
            if !trim.isEmpty {
                logger.warning("payload over --max-payload-bytes: trimmed", metadata: [
                    "payload_id": "\(payload.payloadID)", "logs_cut": "\(trim.logs)", "events_cut": "\(trim.events)",
                    "alerts_summarised": "\(trim.alerts)", "max_payload_bytes": "\(maxPayloadBytes)"])
                trims.update { $0.count(trim) }
            }
            let encoded = EncodedPayload(id: payload.payloadID, body: body)
            logger.debug("payload built", metadata: ["payload_id": "\(payload.payloadID)", "bytes": "\(encoded.body.count)"])
            await shipper.submit(encoded)
        } catch {
            logger.error("cannot encode payload", metadata: ["error": "\(error)"])
        }
    }

    /// Alerts and details logged per cycle at most: a flood raises tens of thousands, which
    /// belong in the payload, not in the agent's own log.
    static var alertsLogged: Int { 20 }

    /// One line naming the cycle's alerts (the first `alertsLogged`, and how many in all), then a
    /// line per detail for the first `alertsLogged` details.
    private func logAlerts(_ findings: Findings) {
        let raised = findings.raisedCount
        guard raised > 0 else { return }
        let named = findings.alerts.prefix(Self.alertsLogged).map(\.wireValue)
        var metadata: Logger.Metadata = ["alerts": "\(named)", "count": "\(raised)", "simulated": "\(simulated)"]
        if raised > named.count { metadata["not_named"] = "\(raised - named.count)" }
        logger.notice("alerts raised", metadata: metadata)
        for d in findings.details.prefix(Self.alertsLogged) {
            var m: Logger.Metadata = ["rule": "\(d.rule.rawValue)"]
            if let c = d.container { m["container"] = "\(c)" }
            if let c = d.command { m["command"] = "\(c)" }
            if let s = d.source { m["source"] = "\(s)" }
            logger.notice("alert detail", metadata: m)
        }
    }
}
