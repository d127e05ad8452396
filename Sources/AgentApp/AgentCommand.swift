import AgentCore
import AgentPlatform
import AgentDocker
import AgentLinux
import ArgumentParser
import NIOCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `monitoring-agent [options]`: collect and ship every interval. Every flag has an
/// environment variable; a flag wins over its variable.
public struct AgentCommand: AsyncParsableCommand {
    typealias O = AgentOptions
    public static let configuration = CommandConfiguration(
        commandName: "monitoring-agent",
        abstract: "Host security-monitoring agent: metrics, auth and Docker signals, signed payloads.",
        discussion: "Every flag can also be set through the environment variable shown beside it; a flag wins over its variable.",
        version: AgentVersion.current,
        subcommands: [ReceiveCommand.self, DemoCommand.self])

    // One declaration per option of `AgentOptions`, named by its `propertyName`, with the name
    // and help the table gives: `givenFlags` finds them by that name (a test checks that the
    // table and these declarations match one to one).
    @Option(name: O.serverURL.name, help: O.serverURL.help) var serverUrl: String?
    @Option(name: O.config.name, help: O.config.help) var config: String?
    @Option(name: O.secret.name, help: O.secret.help) var secret: String?
    @Option(name: O.secretFile.name, help: O.secretFile.help) var secretFile: String?
    @Option(name: O.keyID.name, help: O.keyID.help) var keyId: String?
    @Option(name: O.interval.name, help: O.interval.help) var interval: String?
    @Option(name: O.tailLines.name, help: O.tailLines.help) var tailLines: String?
    @Option(name: O.authWindowSeconds.name, help: O.authWindowSeconds.help) var authWindowSeconds: String?
    @Option(name: O.cpuSpikePct.name, help: O.cpuSpikePct.help) var cpuSpikePct: String?
    @Option(name: O.failedAuthThreshold.name, help: O.failedAuthThreshold.help) var failedAuthThreshold: String?
    @Option(name: O.authSlowWindowSeconds.name, help: O.authSlowWindowSeconds.help) var authSlowWindowSeconds: String?
    @Option(name: O.authSlowThreshold.name, help: O.authSlowThreshold.help) var authSlowThreshold: String?
    @Option(name: O.userEnumThreshold.name, help: O.userEnumThreshold.help) var userEnumThreshold: String?
    @Option(name: O.distributedAddresses.name, help: O.distributedAddresses.help) var distributedAddresses: String?
    @Flag(name: O.authCountProbes.name, help: O.authCountProbes.help) var authCountProbes = false
    @Option(name: O.baselineSamples.name, help: O.baselineSamples.help) var baselineSamples: String?
    @Flag(name: O.simulateAttack.name, help: O.simulateAttack.help) var simulateAttack = false
    @Option(name: O.env.name, help: O.env.help) var env: String?
    @Option(name: O.ownerTeam.name, help: O.ownerTeam.help) var ownerTeam: String?
    @Option(name: O.serverID.name, help: O.serverID.help) var serverId: String?
    @Option(name: O.maxLogEntries.name, help: O.maxLogEntries.help) var maxLogEntries: String?
    @Option(name: O.healthAddr.name, help: O.healthAddr.help) var healthAddr: String?
    @Option(name: O.queueDir.name, help: O.queueDir.help) var queueDir: String?
    @Option(name: O.queueSegmentBytes.name, help: O.queueSegmentBytes.help) var queueSegmentBytes: String?
    @Option(name: O.queueMaxBytes.name, help: O.queueMaxBytes.help) var queueMaxBytes: String?
    @Option(name: O.drainBatch.name, help: O.drainBatch.help) var drainBatch: String?
    @Option(name: O.drainRate.name, help: O.drainRate.help) var drainRate: String?
    @Option(name: O.compressMinBytes.name, help: O.compressMinBytes.help) var compressMinBytes: String?
    @Option(name: O.authSource.name, help: O.authSource.help) var authSource: String?
    @Option(name: O.authLog.name, help: O.authLog.help) var authLog: String?
    @Option(name: O.dockerSocket.name, help: O.dockerSocket.help) var dockerSocket: String?
    @Option(name: O.maxLogLineBytes.name, help: O.maxLogLineBytes.help) var maxLogLineBytes: String?
    @Option(name: O.maxDockerEvents.name, help: O.maxDockerEvents.help) var maxDockerEvents: String?
    @Option(name: O.maxContainers.name, help: O.maxContainers.help) var maxContainers: String?
    @Option(name: O.maxPayloadBytes.name, help: O.maxPayloadBytes.help) var maxPayloadBytes: String?
    @Flag(name: O.shellAlertAll.name, help: O.shellAlertAll.help) var shellAlertAll = false
    @Option(name: O.http5xxMin.name, help: O.http5xxMin.help) var http5xxMin: String?
    @Option(name: O.http5xxRatio.name, help: O.http5xxRatio.help) var http5xxRatio: String?
    @Option(name: O.diskPath.name, help: O.diskPath.help) var diskPath: String?
    @Option(name: O.procRoot.name, help: O.procRoot.help) var procRoot: String?
    @Option(name: O.caFile.name, help: O.caFile.help) var caFile: String?
    @Option(name: O.sendTimeout.name, help: O.sendTimeout.help) var sendTimeout: String?
    @Option(name: O.maxBufferedPayloads.name, help: O.maxBufferedPayloads.help) var maxBufferedPayloads: String?
    @Option(name: O.logLevel.name, help: O.logLevel.help) var logLevel: String?
    @Option(name: O.logFormat.name, help: O.logFormat.help) var logFormat: String?

    public init() {}

    /// Entry point: like `main()`, but every command-line error is one line on stderr naming
    /// the flag (argument-parser's own errors add usage text), with its exit code (64).
    public static func runFromCommandLine() async {
        // One event-loop thread is plenty for one payload per interval, the health endpoint and the
        // Docker streams; NIO's default is a thread per core, each with its stack and malloc arena.
        NIOSingletons.groupLoopCountSuggestion = 1
        NIOSingletons.blockingPoolThreadCountSuggestion = 1
        do {
            var command = try parseAsRoot(nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error)) // --help, --version
            } else if !(error is ExitCode) {
                let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                CLI.printError(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
            }
            Glibc.exit(code.rawValue)
        }
    }

    /// Flag values given on the command line, keyed by flag name.
    var givenFlags: [String: String] { CLI.givenFlags(self, AgentOptions.all) }

    public mutating func run() async throws {
        let configuration = try CLI.resolveOrExit(try ConfigResolver.live(flags: givenFlags).withConfigFile().resolve())
        let logger = CLI.bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
        let agent = try CLI.orExit { try buildAgent(configuration: configuration, logger: logger) }
        let docker: String
        if let socket = configuration.dockerSocket {
            docker = DockerClient.probe(socketPath: socket).map { "unavailable (\($0)) \(socket)" } ?? "connected \(socket)"
        } else {
            docker = "off"
        }
        logger.info("monitoring-agent started", metadata: [
            "version": "\(AgentVersion.current)", "server_url": "\(configuration.redactedServerURL)",
            "interval": "\(configuration.interval)s", "health": "\(configuration.healthHost):\(configuration.healthPort)",
            "metrics": "\(configuration.procRoot) + statvfs(\(configuration.diskPath))",
            "queue_dir": "\(configuration.queueDir)", "queue_length": "\(agent.queueLengthAtStart)",
            "auth_source": "\(agent.authSourceDescription)",
            "docker": "\(docker)", "simulate_attack": "\(configuration.simulateAttack)",
        ])
        try await CLI.orExit { try await agent.run() }
        logger.info("monitoring-agent stopped")
    }
}

/// Shared command-line plumbing (the agent's and the server's): configuration errors exit 64
/// with one line on stderr.
public enum CLI {
    public static let usageExitCode: Int32 = 64

    /// The values a parsed command was given, keyed by flag: each of `specs` is declared in the
    /// command as a property called its `propertyName` (an `Option<String?>`, or a `Flag<Bool>`
    /// for a switch), found here by that name.
    public static func givenFlags(_ command: some ParsableArguments, _ specs: [OptionSpec]) -> [String: String] {
        let byProperty = Dictionary(uniqueKeysWithValues: specs.map { ("_" + $0.propertyName, $0) })
        var out: [String: String] = [:]
        for child in Mirror(reflecting: command).children {
            guard let label = child.label, let spec = byProperty[label] else { continue }
            if let option = child.value as? Option<String?>, let value = option.wrappedValue {
                out[spec.flag] = value
            } else if let flag = child.value as? Flag<Bool>, flag.wrappedValue {
                out[spec.flag] = "true"
            }
        }
        return out
    }

    public static func resolveOrExit<T>(_ body: @autoclosure () throws(ConfigError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            printError("\(error)")
            throw ExitCode(usageExitCode)
        }
    }

    /// Runtime failures (port in use, bad CA file) exit 1 with one line naming the problem.
    public static func orExit<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    public static func orExit<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    public static func printError(_ line: String) {
        writeStderr("monitoring-agent: \(line)\n")
    }

    public static func printInfo(_ text: String) {
        writeStderr(text + "\n")
    }

    static func writeStderr(_ text: String) {
        writeAll(2, Array(text.utf8))
    }

    /// Writes all of `bytes` (a whole log line in one write(2) when the pipe allows).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            rest = rest.dropFirst(n)
        }
    }

    /// Logs go to stderr so stdout stays for data (the receiver prints payloads there).
    /// Logging as `--log-level` and `--log-format` resolve (a bad value exits 64 naming the flag).
    public static func bootstrapLogging(_ resolver: ConfigResolver, label: String = "monitoring-agent") throws -> Logger {
        bootstrapLogging(level: try resolveOrExit(try resolver.choice(AgentOptions.logLevel, LogLevelName.self)),
                         format: try resolveOrExit(try resolver.choice(AgentOptions.logFormat, LogFormat.self)), label: label)
    }

    public static func bootstrapLogging(level: LogLevelName, format: LogFormat = .text, label: String = "monitoring-agent") -> Logger {
        let lvl = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                var h = JSONLogHandler(label: label)
                h.logLevel = lvl
                return h
            case .text:
                var h = TextLogHandler(label: label)
                h.logLevel = lvl
                return h
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = lvl
        return logger
    }
}

extension ConfigResolver {
    /// A resolver over the real environment, host name and file system.
    public static func live(flags: [String: String]) -> ConfigResolver {
        ConfigResolver(flags: flags, environment: System.environment(), hostname: System.hostname(),
                       readFile: { try FileReading.readBytes(path: $0, limit: 1 << 20) })
    }

    /// Loads `--config` / `AGENT_CONFIG`, if given, beneath flags and environment.
    func withConfigFile() throws(ConfigError) -> ConfigResolver {
        var r = self
        let path = flags[AgentOptions.config.flag] ?? environment[AgentOptions.config.env].flatMap { $0.isEmpty ? nil : $0 }
        if let path { r.file = try ConfigFile.load(path: path) }
        return r
    }
}

extension OptionSpec {
    /// The declaration's name: `--flag`.
    public var name: NameSpecification { .customLong(flag) }
    /// The declaration's help: the table's text and value name.
    public var help: ArgumentHelp { .init(helpText, valueName: valueName) }
}
