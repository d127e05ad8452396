import AgentCore
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
    public static let configuration = CommandConfiguration(
        commandName: "monitoring-agent",
        abstract: "Host security-monitoring agent: metrics, auth and Docker signals, signed payloads.",
        discussion: "Every flag can also be set through the environment variable shown beside it; a flag wins over its variable.",
        version: AgentVersion.current,
        subcommands: [ReceiveCommand.self, DemoCommand.self])

    @Option(name: .customLong("server-url"), help: .init(AgentOptions.serverURL.helpText, valueName: "url")) var serverURL: String?
    @Option(name: .customLong("config"), help: .init(AgentOptions.config.helpText, valueName: "file")) var config: String?
    @Option(name: .customLong("secret"), help: .init(AgentOptions.secret.helpText, valueName: "secret")) var secret: String?
    @Option(name: .customLong("secret-file"), help: .init(AgentOptions.secretFile.helpText, valueName: "path")) var secretFile: String?
    @Option(name: .customLong("interval"), help: .init(AgentOptions.interval.helpText, valueName: "seconds")) var interval: String?
    @Option(name: .customLong("tail-lines"), help: .init(AgentOptions.tailLines.helpText, valueName: "n")) var tailLines: String?
    @Option(name: .customLong("auth-window-seconds"), help: .init(AgentOptions.authWindowSeconds.helpText, valueName: "seconds")) var authWindowSeconds: String?
    @Option(name: .customLong("cpu-spike-pct"), help: .init(AgentOptions.cpuSpikePct.helpText, valueName: "percent")) var cpuSpikePct: String?
    @Option(name: .customLong("failed-auth-threshold"), help: .init(AgentOptions.failedAuthThreshold.helpText, valueName: "n")) var failedAuthThreshold: String?
    @Option(name: .customLong("baseline-samples"), help: .init(AgentOptions.baselineSamples.helpText, valueName: "n")) var baselineSamples: String?
    @Flag(name: .customLong("simulate-attack"), help: .init(AgentOptions.simulateAttack.helpText)) var simulateAttack = false
    @Option(name: .customLong("env"), help: .init(AgentOptions.env.helpText, valueName: "env")) var env: String?
    @Option(name: .customLong("owner-team"), help: .init(AgentOptions.ownerTeam.helpText, valueName: "team")) var ownerTeam: String?
    @Option(name: .customLong("server-id"), help: .init(AgentOptions.serverID.helpText, valueName: "id")) var serverID: String?
    @Option(name: .customLong("max-log-entries"), help: .init(AgentOptions.maxLogEntries.helpText, valueName: "n")) var maxLogEntries: String?
    @Option(name: .customLong("health-addr"), help: .init(AgentOptions.healthAddr.helpText, valueName: "host:port")) var healthAddr: String?
    @Option(name: .customLong("queue-dir"), help: .init(AgentOptions.queueDir.helpText, valueName: "dir")) var queueDir: String?
    @Option(name: .customLong("queue-segment-bytes"), help: .init(AgentOptions.queueSegmentBytes.helpText, valueName: "bytes")) var queueSegmentBytes: String?
    @Option(name: .customLong("queue-max-bytes"), help: .init(AgentOptions.queueMaxBytes.helpText, valueName: "bytes")) var queueMaxBytes: String?
    @Option(name: .customLong("drain-batch"), help: .init(AgentOptions.drainBatch.helpText, valueName: "n")) var drainBatch: String?
    @Option(name: .customLong("auth-source"), help: .init(AgentOptions.authSource.helpText, valueName: "source")) var authSource: String?
    @Option(name: .customLong("auth-log"), help: .init(AgentOptions.authLog.helpText, valueName: "path")) var authLog: String?
    @Option(name: .customLong("docker-socket"), help: .init(AgentOptions.dockerSocket.helpText, valueName: "path")) var dockerSocket: String?
    @Option(name: .customLong("max-log-line-bytes"), help: .init(AgentOptions.maxLogLineBytes.helpText, valueName: "bytes")) var maxLogLineBytes: String?
    @Option(name: .customLong("max-docker-events"), help: .init(AgentOptions.maxDockerEvents.helpText, valueName: "n")) var maxDockerEvents: String?
    @Option(name: .customLong("max-containers"), help: .init(AgentOptions.maxContainers.helpText, valueName: "n")) var maxContainers: String?
    @Option(name: .customLong("max-payload-bytes"), help: .init(AgentOptions.maxPayloadBytes.helpText, valueName: "bytes")) var maxPayloadBytes: String?
    @Flag(name: .customLong("shell-alert-all"), help: .init(AgentOptions.shellAlertAll.helpText)) var shellAlertAll = false
    @Option(name: .customLong("http-5xx-min"), help: .init(AgentOptions.http5xxMin.helpText, valueName: "n")) var http5xxMin: String?
    @Option(name: .customLong("http-5xx-ratio"), help: .init(AgentOptions.http5xxRatio.helpText, valueName: "fraction")) var http5xxRatio: String?
    @Option(name: .customLong("disk-path"), help: .init(AgentOptions.diskPath.helpText, valueName: "path")) var diskPath: String?
    @Option(name: .customLong("proc-root"), help: .init(AgentOptions.procRoot.helpText, valueName: "path")) var procRoot: String?
    @Option(name: .customLong("ca-file"), help: .init(AgentOptions.caFile.helpText, valueName: "path")) var caFile: String?
    @Option(name: .customLong("send-timeout"), help: .init(AgentOptions.sendTimeout.helpText, valueName: "seconds")) var sendTimeout: String?
    @Option(name: .customLong("max-buffered-payloads"), help: .init(AgentOptions.maxBufferedPayloads.helpText, valueName: "n")) var maxBufferedPayloads: String?
    @Option(name: .customLong("log-level"), help: .init(AgentOptions.logLevel.helpText, valueName: "level")) var logLevel: String?
    @Option(name: .customLong("log-format"), help: .init(AgentOptions.logFormat.helpText, valueName: "format")) var logFormat: String?

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
    var givenFlags: [String: String] {
        let pairs: [(OptionSpec, String?)] = [
            (AgentOptions.config, config), (AgentOptions.serverURL, serverURL), (AgentOptions.secret, secret), (AgentOptions.secretFile, secretFile),
            (AgentOptions.interval, interval), (AgentOptions.tailLines, tailLines),
            (AgentOptions.authWindowSeconds, authWindowSeconds), (AgentOptions.cpuSpikePct, cpuSpikePct),
            (AgentOptions.failedAuthThreshold, failedAuthThreshold), (AgentOptions.baselineSamples, baselineSamples),
            (AgentOptions.simulateAttack, simulateAttack ? "true" : nil), (AgentOptions.env, env),
            (AgentOptions.ownerTeam, ownerTeam), (AgentOptions.serverID, serverID),
            (AgentOptions.maxLogEntries, maxLogEntries), (AgentOptions.healthAddr, healthAddr),
            (AgentOptions.queueDir, queueDir), (AgentOptions.queueSegmentBytes, queueSegmentBytes),
            (AgentOptions.queueMaxBytes, queueMaxBytes), (AgentOptions.drainBatch, drainBatch), (AgentOptions.authSource, authSource), (AgentOptions.authLog, authLog), (AgentOptions.dockerSocket, dockerSocket),
            (AgentOptions.maxLogLineBytes, maxLogLineBytes), (AgentOptions.maxDockerEvents, maxDockerEvents),
            (AgentOptions.maxPayloadBytes, maxPayloadBytes), (AgentOptions.maxContainers, maxContainers),
            (AgentOptions.shellAlertAll, shellAlertAll ? "true" : nil), (AgentOptions.http5xxMin, http5xxMin),
            (AgentOptions.http5xxRatio, http5xxRatio),
            (AgentOptions.diskPath, diskPath), (AgentOptions.procRoot, procRoot), (AgentOptions.caFile, caFile),
            (AgentOptions.sendTimeout, sendTimeout), (AgentOptions.maxBufferedPayloads, maxBufferedPayloads),
            (AgentOptions.logLevel, logLevel), (AgentOptions.logFormat, logFormat),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { spec, v in v.map { (spec.flag, $0) } })
    }

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
            "queue_dir": "\(configuration.queueDir)", "queue_length": "\(agent.status.snapshot().queueLength)",
            "auth_source": "\(agent.authSourceDescription)",
            "docker": "\(docker)", "simulate_attack": "\(configuration.simulateAttack)",
        ])
        try await CLI.orExit { try await agent.run() }
        logger.info("monitoring-agent stopped")
    }
}

/// Shared command-line plumbing: configuration errors exit 64 with one line on stderr.
enum CLI {
    static let usageExitCode: Int32 = 64

    static func resolveOrExit<T>(_ body: @autoclosure () throws(ConfigError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            printError("\(error)")
            throw ExitCode(usageExitCode)
        }
    }

    /// Runtime failures (port in use, bad CA file) exit 1 with one line naming the problem.
    static func orExit<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    static func orExit<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    static func printError(_ line: String) {
        writeStderr("monitoring-agent: \(line)\n")
    }

    static func printInfo(_ text: String) {
        writeStderr(text + "\n")
    }

    static func writeStderr(_ text: String) {
        writeAll(2, Array(text.utf8))
    }

    /// Writes all of `bytes` (a whole log line in one write(2) when the pipe allows).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            rest = rest.dropFirst(n)
        }
    }

    /// Logs go to stderr so stdout stays for data (the receiver prints payloads there).
    static func bootstrapLogging(level: LogLevelName, format: LogFormat = .text) -> Logger {
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
        var logger = Logger(label: "monitoring-agent")
        logger.logLevel = lvl
        return logger
    }
}

extension ConfigResolver {
    /// A resolver over the real environment, host name and file system.
    static func live(flags: [String: String]) -> ConfigResolver {
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
