import AgentCore
import AgentLinux
import AgentServer
import AgentShipping
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The assembled agent: its services in start order and the shared status.
public struct Agent: Sendable {
    public let services: [any Service]
    public let status: AgentStatus
    /// The auth log being tailed, nil when brute-force detection is off.
    public let authLog: String?
    let logger: Logger

    /// Runs every service in one group until SIGTERM/SIGINT. Shutdown runs in reverse order:
    /// collection stops first, the shipper (first in) flushes last.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Wires the configuration into services: shipper, health server, collector.
public func buildAgent(configuration c: AgentConfiguration, logger: Logger,
                       onHealthRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> Agent {
    let wallClock: @Sendable () -> Int64 = { System.unixNow() }
    let status = AgentStatus(startedAtUnix: wallClock())
    let clock = ContinuousClock()
    let interval = Duration.milliseconds(Int64(c.interval * 1000))

    let transport = try HTTPTransport(url: c.serverURL, caFile: c.caFile, timeoutSeconds: c.sendTimeout)
    let shipper = Shipper(
        transport: transport, signer: PayloadSigner(secret: c.secret),
        configuration: ShipperConfiguration(
            capacity: c.maxBufferedPayloads,
            disk: DiskQueueConfiguration(directory: c.queueDir, segmentBytes: c.queueSegmentBytes, maxBytes: c.queueMaxBytes),
            drainBatch: c.drainBatch, cycleBudget: interval),
        status: status, clock: clock, wallClock: wallClock, logger: logger.with(component: "shipper"))

    let health = makeHealthServer(status: status, host: c.healthHost, port: c.healthPort,
                                  wallClock: wallClock, logger: logger.with(component: "health"),
                                  onRunning: onHealthRunning)

    let identity = HostIdentity(host: System.hostname(), serverID: c.serverID, env: c.env,
                                ownerTeam: c.ownerTeam, agentVersion: AgentVersion.current)
    let signals = SecuritySignals(failedAuthThreshold: c.failedAuthThreshold, authWindowSeconds: c.authWindowSeconds,
                                  baselineSamples: c.baselineSamples, cpuSpikePct: c.cpuSpikePct)
    let simulator = c.simulateAttack
        ? AttackSimulator(failedAuthThreshold: c.failedAuthThreshold, authWindowSeconds: c.authWindowSeconds,
                          baselineSamples: c.baselineSamples, cpuSpikePct: c.cpuSpikePct)
        : nil
    var services: [any Service] = [shipper, health]
    let authPath = c.authLog ?? AuthMonitorService.autoDetect(exists: { access($0, R_OK) == 0 })
    if let authPath {
        services.append(AuthMonitorService(path: authPath, positionFile: c.queueDir + "/auth-position", signals: signals,
                                           wallClock: wallClock, logger: logger.with(component: "auth")))
    } else {
        logger.warning("no auth log found (/var/log/auth.log, /var/log/secure); brute-force detection is off")
    }
    let collector = CollectorService(
        identity: identity, interval: interval,
        metrics: HostMetricsCollector(proc: ProcFS(root: c.procRoot), diskPath: c.diskPath),
        signals: signals, simulator: simulator,
        shipper: shipper, status: status, clock: clock, wallClock: wallClock,
        logger: logger.with(component: "collector"))

    services.append(collector)
    return Agent(services: services, status: status, authLog: authPath, logger: logger)
}

extension Logger {
    func with(component: String) -> Logger {
        var l = self
        l[metadataKey: "component"] = "\(component)"
        return l
    }
}
