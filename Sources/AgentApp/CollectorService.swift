import AgentCore
import AgentLinux
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

/// Every interval: sample host metrics, build the payload, record it in the status, and hand
/// it to the shipper. Runs until graceful shutdown.
public struct CollectorService<C: Clock>: Service where C.Duration == Duration, C.Instant == ContinuousClock.Instant {
    let identity: HostIdentity
    let interval: Duration
    let shipper: Shipper<C>
    let status: AgentStatus
    let clock: C
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    var metrics: HostMetricsCollector
    let signals: SecuritySignals
    let simulator: AttackSimulator?
    /// Docker events, logs and container alerts gathered since the last cycle (nil: Docker off).
    let docker: DockerActivity?
    /// Largest payload body (`PayloadBudget`).
    let maxPayloadBytes: Int

    public init(identity: HostIdentity, interval: Duration, metrics: HostMetricsCollector, signals: SecuritySignals,
                simulator: AttackSimulator?, docker: DockerActivity? = nil, shipper: Shipper<C>,
                status: AgentStatus, clock: C, wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                maxPayloadBytes: Int = 1 << 20) {
        self.maxPayloadBytes = maxPayloadBytes
        self.signals = signals
        self.simulator = simulator
        self.docker = docker
        self.identity = identity
        self.interval = interval
        self.metrics = metrics
        self.shipper = shipper
        self.status = status
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            var metrics = self.metrics
            metrics.prime(now: clock.now)
            await repeatEvery(interval, clock: clock) { await cycle(&metrics) }
        }
        logger.debug("collector stopped")
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// One collection cycle. Internal so tests can drive cycles without a timer.
    func cycle(_ metrics: inout HostMetricsCollector) async {
        let started = ContinuousClock.now
        let (sample, errors) = metrics.collect(now: clock.now)
        let hostDone = ContinuousClock.now
        for e in errors {
            logger.warning("collector error", metadata: ["code": "\(e.code.rawValue)", "error": "\(e)"])
        }
        let now = wallClock()
        var alerts = signals.alerts(cpuUsage: sample.cpuUsage, now: now)
        let securityDone = ContinuousClock.now
        let batch = docker?.drain() ?? DockerActivity.Batch()
        let dockerDone = ContinuousClock.now
        alerts += batch.alerts
        if let simulator { alerts += simulator.cycle(now: now) }
        var seen = Set<Alert>()
        alerts = alerts.filter { seen.insert($0).inserted } // once per address per payload
        if !alerts.isEmpty {
            logger.notice("alerts raised", metadata: ["alerts": "\(alerts.map(\.wireValue))", "simulated": "\(simulator != nil)"])
        }
        let payload = Payload(
            payloadID: PayloadID.random(), agentVersion: identity.agentVersion, host: identity.host,
            serverID: identity.serverID, env: identity.env, ownerTeam: identity.ownerTeam,
            timestamp: RFC3339.format(unixSeconds: now), metrics: sample, dockerEvents: batch.events, logs: batch.logs,
            alerts: alerts, alertsDetail: batch.details, simulated: simulator != nil)
        status.update {
            $0.lastMetrics = sample
            $0.lastAlerts = payload.localAlerts
            $0.payloadsBuilt += 1
            for e in errors { $0.collectorErrors[e.code.rawValue, default: 0] += 1 }
            if let docker { $0.dockerCounters = docker.counters }
            $0.lastScore = payload.score
            let auth = signals.counts
            $0.authLinesParsed = auth.lines
            $0.authEvents = auth.events
            $0.authFailuresCounted = auth.failures
            $0.collectorDurations["host"] = Self.seconds(hostDone - started)
            $0.collectorDurations["security"] = Self.seconds(securityDone - hostDone)
            if docker != nil { $0.collectorDurations["docker"] = Self.seconds(dockerDone - securityDone) }
        }
        do {
            let (body, trim) = try PayloadBudget.fit(payload, maxBytes: maxPayloadBytes)
            if !trim.isEmpty {
                logger.warning("payload over --max-payload-bytes: trimmed", metadata: [
                    "payload_id": "\(payload.payloadID)", "logs_cut": "\(trim.logs)", "events_cut": "\(trim.events)",
                    "alerts_summarised": "\(trim.alerts)", "max_payload_bytes": "\(maxPayloadBytes)"])
                status.update { $0.count(trim) }
            }
            let encoded = EncodedPayload(id: payload.payloadID, body: body)
            logger.debug("payload built", metadata: ["payload_id": "\(payload.payloadID)", "bytes": "\(encoded.body.count)"])
            await shipper.submit(encoded)
        } catch {
            logger.error("cannot encode payload", metadata: ["error": "\(error)"])
        }
    }
}
