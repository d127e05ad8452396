import AgentCore
import AgentPlatform
import AgentLinux
import AgentServer
import ArgumentParser
import Logging
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `monitoring-agent demo`: the agent and a verifying receiver on loopback with a fresh random
/// secret, so a newcomer sees real signed payloads with no outside server. With the
/// `monitoring-server` executable beside this one (a `swift build` makes both) the receiver is
/// that server with its SQLite store and dashboard, started as a child; without it, the
/// agent's own in-process receiver (no store, no dashboard).
public struct DemoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the agent against a local verifying receiver and print each verified payload.",
        discussion: "Agent flags go before 'demo': monitoring-agent --interval 1 --simulate-attack demo --count 3")

    @Option(name: .customLong("port"), help: "Receiver port on 127.0.0.1") var port: Int = 9000
    @Option(name: .customLong("count"), help: "Stop after this many verified payloads (0: run until Ctrl-C)") var count: Int = 0
    @Flag(name: .customLong("json"), help: "Print each verified payload as its JSON line instead of a readable summary") var json = false
    @Option(name: .customLong("data"), help: "Directory of the demo server's database (when monitoring-server is built)") var data = "demo-data"
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
        if let server = Self.serverBinary() {
            try await runWithServer(server, secret: secret, agentConfiguration: agentConfiguration, stopper: stopper, logger: logger)
            return
        }
        let sink = CountingStdoutSink(limit: count, readable: !json, onLimit: { await stopper.stop() })
        let receiver = makeReceiver(
            configuration: ReceiverConfiguration(host: "127.0.0.1", port: port, secret: Secret(secret)),
            sink: sink, wallClock: { System.unixNow() }, logger: logger.with(component: "receiver"))
        try await run(receiver, agentConfiguration: agentConfiguration, stopper: stopper, logger: logger, banner: """
            demo: no monitoring-server beside this binary (swift build makes it): an in-process receiver, no dashboard;
            demo: receiver on http://127.0.0.1:\(port)/ingest, agent sending every \(agentConfiguration.interval)s with a random secret;
            demo: health on http://\(agentConfiguration.healthHost):\(agentConfiguration.healthPort)/healthz. Each payload below passed signature verification\(json ? "" : " (--json prints the payloads themselves)"). Ctrl-C stops.
            """)
    }

    /// The agent beside the demo's receiver (`receiver` first: a group stops in reverse order,
    /// so the agent's last send is answered before the receiver stops), until Ctrl-C or the
    /// stopper; `banner` is printed once the group is set up.
    func run(_ receiver: any Service, agentConfiguration: AgentConfiguration, stopper: GroupStopper, logger: Logger,
             banner: String) async throws {
        let agent = try CLI.orExit { try buildAgent(configuration: agentConfiguration, logger: logger) }
        let group = ServiceGroup(configuration: .init(
            services: ([receiver] + agent.services).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        stopper.set(group)
        CLI.printInfo(banner)
        try await CLI.orExit { try await agent.run(group) }
    }

    /// `monitoring-server` in `SERVER_BIN` or beside this executable, if there is one.
    static func serverBinary() -> String? {
        if let env = getenv("SERVER_BIN"), access(env, X_OK) == 0 { return String(cString: env) }
        var buffer = [CChar](repeating: 0, count: 4_096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let me = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = me.lastIndex(of: "/") else { return nil }
        let path = String(me[..<slash]) + "/monitoring-server"
        return access(path, X_OK) == 0 ? path : nil
    }

    /// The demo with the real server: it stores into `--data` and prints each payload it stored
    /// (`--print-payloads`), which the demo relays; the agent starts once the server listens.
    func runWithServer(_ server: String, secret: String, agentConfiguration: AgentConfiguration, stopper: GroupStopper,
                       logger: Logger) async throws {
        let secretPath = data + "/demo-secret", serverLog = data + "/server.log"
        let child = try CLI.orExit { () throws -> ChildProcess in
            try FileOps.makeDirectory(data)
            try FileOps.replaceAtomically(secretPath, with: Array(secret.utf8), durable: false)
            return try ChildProcess(executable: server, arguments: [
                "--secret-file", secretPath, "--listen", "127.0.0.1:\(port)", "--data", data, "--database", "",
                "--print-payloads", json ? "json" : "lines", "--log-level", "warning"], stderrPath: serverLog)
        }
        let relay = ServerRelay(child: child, limit: count, onLimit: { await stopper.stop() })
        guard await relay.waitListening(port: port, timeout: .seconds(30)) else {
            let log = (try? FileOps.readAll(serverLog)).map { String(decoding: $0.suffix(2_000), as: UTF8.self) } ?? ""
            CLI.printError("demo: monitoring-server did not start listening on 127.0.0.1:\(port)\n\(log)")
            await relay.stop()
            throw ExitCode(1)
        }
        try await run(relay, agentConfiguration: agentConfiguration, stopper: stopper, logger: logger, banner: """
            demo: monitoring-server on 127.0.0.1:\(port) storing into \(data)/monitoring.sqlite; the agent sends every \(agentConfiguration.interval)s with a random secret.
            demo: dashboard on http://127.0.0.1:\(port)/ (open it in a browser); agent health on http://\(agentConfiguration.healthHost):\(agentConfiguration.healthPort)/healthz.
            demo: each line below is a payload the server verified and stored\(json ? "" : " (--json prints the payloads themselves)"). Ctrl-C stops.
            """)
    }

    static func randomSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &rng), radix: 16).leftPad(2) }.joined()
    }
}

/// Runs the demo's `monitoring-server` child: relays the lines it prints (each payload it stored)
/// to stdout, calls `onLimit` after `limit` of them (0: never), and stops the server when the
/// group shuts down. A server that exits on its own fails the demo.
final class ServerRelay: Service, @unchecked Sendable {
    // Only `run` (and before it `waitListening`, and after it `stop`) touch the child: one at a time.
    private let child: ChildProcess
    private let limit: Int
    private let onLimit: @Sendable () async -> Void

    init(child: ChildProcess, limit: Int, onLimit: @escaping @Sendable () async -> Void) {
        self.child = child
        self.limit = limit
        self.onLimit = onLimit
    }

    /// Whether the server accepts connections on `port` before `timeout` (false if it exited).
    func waitListening(port: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if child.poll().exited { return false }
            if Self.connects(port: port) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    static func connects(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    func run() async throws {
        let exited = await cancelWhenGracefulShutdown { [self] () -> Bool in
            var printed = 0
            while !Task.isCancelled {
                let (lines, gone) = child.poll()
                for line in lines where limit == 0 || printed < limit {
                    CLI.writeAll(1, Array((line + "\n").utf8))
                    printed += 1
                    if printed == limit { await onLimit() }
                }
                if gone { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        if exited { throw AgentError(.invalidConfiguration, "monitoring-server exited; see its log in the demo's data directory") }
        await stop()
    }

    func stop() async {
        await child.terminate(grace: .seconds(5))
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
public enum PayloadSummary {
    static let alertsNamed = 3

    public static func line(_ p: Payload) -> String {
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
