import AgentCore
import AgentPlatform
import AgentLinux
import AgentServer
import ArgumentParser
import Logging
import ServiceLifecycle
import Synchronization

/// `monitoring-agent demo`: the agent and a verifying receiver in one process on loopback,
/// with a fresh random secret, so a newcomer sees real signed payloads with no outside server.
public struct DemoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the agent against a local verifying receiver and print each verified payload.",
        discussion: "Agent flags go before 'demo': monitoring-agent --interval 1 --simulate-attack demo --count 3")

    @Option(name: .customLong("port"), help: "Receiver port on 127.0.0.1") var port: Int = 9000
    @Option(name: .customLong("count"), help: "Stop after this many verified payloads (0: run until Ctrl-C)") var count: Int = 0
    @Flag(name: .customLong("json"), help: "Print each verified payload as its JSON line instead of a readable summary") var json = false
    /// The agent's own flags (`--interval`, `--health-addr`, `--simulate-attack`, ...) apply to the demo's agent.
    @ParentCommand var agentFlags: AgentCommand

    public init() {}

    public mutating func run() async throws {
        let secret = DemoCommand.randomSecret()
        var flags = agentFlags.givenFlags
        flags["interval"] = flags["interval"] ?? "2"
        flags["server-url"] = "http://127.0.0.1:\(port)/ingest"
        flags["secret"] = secret
        flags["secret-file"] = nil
        // The demo ignores agent variables from the environment so it always talks to its own receiver.
        let resolver = ConfigResolver(flags: flags, environment: [:], hostname: System.hostname(), readFile: { try FileReading.readBytes(path: $0, limit: 1 << 20) })
        let agentConfiguration = try CLI.resolveOrExit(try resolver.resolve())
        guard count >= 0 else { CLI.printError("--count: must be 0 or more"); throw ExitCode(CLI.usageExitCode) }
        let logger = CLI.bootstrapLogging(level: agentConfiguration.logLevel, format: agentConfiguration.logFormat)

        let stopper = GroupStopper()
        let sink = CountingStdoutSink(limit: count, readable: !json, onLimit: { await stopper.stop() })
        let receiver = makeReceiver(
            configuration: ReceiverConfiguration(host: "127.0.0.1", port: port, secret: Secret(secret)),
            sink: sink, wallClock: { System.unixNow() }, logger: logger.with(component: "receiver"))
        let agent = try CLI.orExit { try buildAgent(configuration: agentConfiguration, logger: logger) }
        let group = ServiceGroup(configuration: .init(
            services: ([receiver] + agent.services).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        stopper.set(group)
        CLI.printInfo("""
            demo: receiver on http://127.0.0.1:\(port)/ingest, agent sending every \(agentConfiguration.interval)s with a random secret;
            demo: health on http://\(agentConfiguration.healthHost):\(agentConfiguration.healthPort)/healthz. Each payload below passed signature verification\(json ? "" : " (--json prints the payloads themselves)"). Ctrl-C stops.
            """)
        try await CLI.orExit { try await agent.run(group) }
    }

    static func randomSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &rng), radix: 16).leftPad(2) }.joined()
    }
}

/// Lets the sink stop the group it runs in once enough payloads arrived.
final class GroupStopper: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)
    func set(_ g: ServiceGroup) { group.withLock { $0 = g } }
    func stop() async { await group.withLock { $0 }?.triggerGracefulShutdown() }
}

/// Prints each verified payload (its JSON line like `StdoutSink`, or with `readable` a one-line
/// summary) and calls `onLimit` once after `limit` payloads (0: never).
final class CountingStdoutSink: PayloadSink {
    private let printer = StdoutSink()
    var deduplicates: Bool { printer.deduplicates }
    private let seen = Mutex(0)
    let limit: Int
    let readable: Bool
    let onLimit: @Sendable () async -> Void

    init(limit: Int, readable: Bool = false, onLimit: @escaping @Sendable () async -> Void) {
        self.limit = limit
        self.readable = readable
        self.onLimit = onLimit
    }

    func accept(_ payload: Payload, body: [UInt8]) async throws -> SinkResult {
        let result: SinkResult
        if readable {
            CLI.writeAll(1, Array((PayloadSummary.line(payload) + "\n").utf8))
            result = .stored
        } else {
            result = try await printer.accept(payload, body: body)
        }
        let n = seen.withLock { $0 += 1; return $0 }
        if limit > 0, n == limit { await onLimit() }
        return result
    }
}

/// A payload in one line a person reads: time, host, the metrics, the alerts (the first few by
/// name) and the score.
enum PayloadSummary {
    static let alertsNamed = 3

    static func line(_ p: Payload) -> String {
        let m = p.metrics
        func pct(_ v: Double?) -> String { v.map { "\(($0 * 10).rounded() / 10)%" } ?? "?" }
        func rate(_ v: Double?) -> String {
            guard let v else { return "?" }
            return v >= 1_048_576 ? "\((v / 104_857.6).rounded() / 10) MB/s" : v >= 1_024 ? "\((v / 102.4).rounded() / 10) KB/s" : "\(Int(v)) B/s"
        }
        let time = p.timestamp.split(separator: "T").last.map { String($0.dropLast()) } ?? p.timestamp
        var alerts = "no alerts"
        if !p.localAlerts.isEmpty {
            let omitted = p.alertsDetail.reduce(0) { $0 + ($1.omitted ?? 0) }
            let named = p.localAlerts.prefix(alertsNamed).joined(separator: " ")
            let rest = p.localAlerts.count - min(p.localAlerts.count, alertsNamed) + omitted
            alerts = "\(p.localAlerts.count + omitted) alerts: \(named)\(rest > 0 ? " (+\(rest))" : "")"
        }
        return "\(time)  \(p.host)  cpu \(pct(m.cpuUsage))  mem \(pct(m.memoryUsage))  disk \(pct(m.diskUsage))  "
            + "net in \(rate(m.networkRxBytesPerSec)) out \(rate(m.networkTxBytesPerSec))  tcp \(m.tcpConnections.map(String.init) ?? "?")  "
            + "\(alerts)  score \(p.score)\(p.simulated == true ? "  (simulated)" : "")"
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
