import AgentCore
import AgentDetect
import AgentDocker
import AgentLinux
import AgentPlatform
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
    /// Payloads waiting in the queue from before this start.
    public let queueLengthAtStart: Int
    /// Where failed logins are read from.
    public let authSource: AuthSource
    let logger: Logger

    /// For the start-up line: `file /var/log/auth.log`, `journald` or `off`.
    public var authSourceDescription: String {
        switch authSource {
        case .file(let p): "file \(p)"
        case .journald: "journald"
        case .off: "off"
        }
    }

    /// The thread the collector, shipper and auth services run on; `run` stops it at the end.
    let cycleLoop: CycleLoop

    /// Runs every service in one group until SIGTERM/SIGINT. Shutdown runs in reverse order:
    /// collection stops first, the shipper (first in) flushes last; then the cycle thread stops.
    public func run() async throws {
        try await run(ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)))
    }

    /// Runs `group`, which holds `services` (and possibly more, as the demo's receiver), then
    /// stops the cycle thread, whether the group ended normally or with an error.
    public func run(_ group: ServiceGroup) async throws {
        do {
            try await group.run()
        } catch {
            await cycleLoop.shutdown()
            throw error
        }
        await cycleLoop.shutdown()
    }
}

/// Wires the configuration into services: shipper, health server, collector.
public func buildAgent(configuration c: AgentConfiguration, logger: Logger,
                       onHealthRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> Agent {
    let wallClock: @Sendable () -> Int64 = { System.unixNow() }
    let status = AgentStatus(startedAtUnix: wallClock())
    let loop = CycleLoop()
    let clock = loop.clock
    let interval = Duration.milliseconds(Int64(c.interval * 1000))

    // Status parts in the order /metrics lists them: collection, payload budget, delivery, Docker.
    let collection = status.register(CollectionStatus())
    let trims = status.register(TrimStatus())
    let transport = try HTTPTransport(url: c.serverURL, caFile: c.caFile, timeoutSeconds: c.sendTimeout,
                                      userAgent: "monitoring-agent/" + AgentVersion.current, eventLoopGroup: loop.group)
    let shipper = Shipper(
        transport: transport, signer: PayloadSigner(secret: c.secret), keyID: c.keyID,
        configuration: ShipperConfiguration(
            capacity: c.maxBufferedPayloads,
            disk: DiskQueueConfiguration(directory: c.queueDir, segmentBytes: c.queueSegmentBytes, maxBytes: c.queueMaxBytes),
            drainBatch: c.drainBatch, drainRate: c.drainRate, cycleBudget: interval, compressMinBytes: c.compressMinBytes),
        status: status, trims: trims, clock: clock, wallClock: wallClock, logger: logger.with(component: "shipper"))
    let dockerStatus = status.register(DockerConnectionStatus(c.dockerSocket == nil ? .disabled : .connecting))

    let health = try makeHealthServer(status: status, host: c.healthHost, port: c.healthPort,
                                  wallClock: wallClock, logger: logger.with(component: "health"),
                                  exporter: PrometheusExporter(version: AgentVersion.current),
                                  onRunning: onHealthRunning)

    let identity = HostIdentity(host: System.hostname(), serverID: c.serverID, env: c.env.rawValue,
                                ownerTeam: c.ownerTeam, agentVersion: AgentVersion.current)
    let detectors = DetectorSet(standard: DetectorSettings(c))
    // The collection cycle, the shipper and the auth tailer run on the agent's one cycle thread.
    var services: [any Service] = [loop.pinned(shipper), health]
    if let path = c.secretFile {
        // Rotation: a new secret written to the file is used from the next send on.
        let keyID = c.keyID
        services.append(HangupReloader("secret file", logger: logger.with(component: "shipper")) {
            let secret = try ConfigResolver.secret(fileBytes: try FileReading.readBytes(path: path, limit: 1 << 20), path: path)
            await shipper.rotate(signer: PayloadSigner(secret: secret), keyID: keyID)
            return AgentError.quote(path)
        })
    }
    // The sources, in the order their batches are taken each cycle.
    var sources: [any SignalSource] = [HostMetricsSource(HostMetricsCollector(proc: ProcFS(root: c.procRoot), diskPath: c.diskPath),
                                                         now: clock.now)]
    let authSource = chooseAuthSource(c, exists: { access($0, R_OK) == 0 })
    let authFeed = AuthFeed(detectors: detectors)
    switch authSource {
    case .file(let path):
        services.append(loop.pinned(AuthMonitorService(path: path, positionFile: c.queueDir + "/auth-position", feed: authFeed,
                                                       wallClock: wallClock, logger: logger.with(component: "auth"), clock: clock)))
        sources.append(authFeed)
    case .journald:
        services.append(loop.pinned(JournaldAuthService(cursorFile: c.queueDir + "/journal-cursor", feed: authFeed,
                                                        wallClock: wallClock, logger: logger.with(component: "auth"), clock: clock)))
        sources.append(authFeed)
    case .off(let why):
        logger.warning("brute-force detection is off", metadata: ["reason": "\(why)"])
    }
    if let socket = c.dockerSocket {
        let activity = DockerActivity(maxEventsPerPayload: c.maxDockerEvents, maxLogEntries: c.maxLogEntries,
                                      maxLineBytes: c.maxLogLineBytes)
        services.append(DockerMonitor(
            configuration: DockerMonitorConfiguration(socketPath: socket, tailLines: c.tailLines,
                                                      maxLineBytes: c.maxLogLineBytes, maxContainers: c.maxContainers),
            activity: activity, logger: logger.with(component: "docker"), wallClock: wallClock,
            onConnection: { state in dockerStatus.update { $0.connection = state } }))
        sources.append(DockerSource(activity: activity))
    }
    if c.simulateAttack { sources.append(AttackSimulatorSource(DetectorSettings(c))) }
    let collector = CollectorService(
        identity: identity, interval: interval, sources: sources, detectors: detectors,
        shipper: shipper, status: collection, trims: trims, clock: clock, wallClock: wallClock,
        logger: logger.with(component: "collector"), simulated: c.simulateAttack, maxPayloadBytes: c.maxPayloadBytes)

    services.append(loop.pinned(collector))
    return Agent(services: services, status: status, queueLengthAtStart: shipper.deliveryStatus.queueLength,
                 authSource: authSource, logger: logger, cycleLoop: loop)
}

extension Logger {
    func with(component: String) -> Logger {
        var l = self
        l[metadataKey: "component"] = "\(component)"
        return l
    }
}

/// The chosen auth source.
public enum AuthSource: Sendable, Equatable {
    case file(String)
    case journald
    case off(String)
}

/// `--auth-source`: auto picks the auth log file (`--auth-log`, or /var/log/auth.log, then
/// /var/log/secure) if present, else journald if available, else off (degraded, not an exit).
func chooseAuthSource(_ c: AgentConfiguration, exists: (String) -> Bool) -> AuthSource {
    let file = c.authLog ?? AuthMonitorService.autoDetect(exists: exists)
    switch c.authSource {
    case .none: return .off("--auth-source none")
    case .file:
        return .file(file ?? "/var/log/auth.log") // the tailer waits for it to appear
    case .journald:
        return .journald
    case .auto:
        if let explicit = c.authLog { return .file(explicit) } // named by the user: wait for it
        if let file, exists(file) { return .file(file) }
        if JournaldAuthService.isAvailable(exists: exists) { return .journald }
        return .off("no auth log file (/var/log/auth.log, /var/log/secure) and no journald")
    }
}
