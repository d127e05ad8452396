import AgentCore
import AgentServer
import ArgumentParser
import Logging
import ServiceLifecycle

/// `monitoring-agent receive`: a verifying ingest server that prints each verified payload as
/// one JSON line on stdout. For quick starts, tests, and as a reference for server authors.
public struct ReceiveCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Accept signed payloads, verify them, print each verified payload as one JSON line.",
        discussion: "The secret is given as for the agent, before 'receive': monitoring-agent --secret-file s receive --listen 127.0.0.1:9000 (or SECRET / SECRET_FILE).")

    // Declared as the agent's options are (see `AgentCommand`).
    @Option(name: ReceiverOptions.listen.name, help: ReceiverOptions.listen.help) var listen: String?
    @Option(name: ReceiverOptions.maxSkew.name, help: ReceiverOptions.maxSkew.help) var maxSkew: String?
    @Option(name: ReceiverOptions.bodyLimit.name, help: ReceiverOptions.bodyLimit.help) var bodyLimit: String?
    @Option(name: ReceiverOptions.data.name, help: ReceiverOptions.data.help) var data: String?
    @Option(name: ReceiverOptions.keyring.name, help: ReceiverOptions.keyring.help) var keyring: String?
    /// `--secret`, `--secret-file` and `--log-level` are shared with the agent and go before `receive`.
    @ParentCommand var shared: AgentCommand

    public init() {}

    public mutating func run() async throws {
        // The shared flags given before `receive` (--secret, --secret-file, --log-level,
        // --log-format) come from the same table as the agent's.
        let flags = shared.givenFlags.merging(CLI.givenFlags(self, ReceiverOptions.all)) { _, own in own }
        let resolver = ConfigResolver.live(flags: flags)
        let configuration = try CLI.resolveOrExit(try resolver.receiverConfiguration())
        let logger = try CLI.bootstrapLogging(resolver)
        let dataDir = resolver.string(ReceiverOptions.data)
        let store = try dataDir.isEmpty ? nil : CLI.orExit { try ReceiverStore(directory: dataDir) }
        if let store {
            logger.info("receiver store open", metadata: ["path": "\(store.path)", "payloads": "\(store.count)", "corrupt_skipped": "\(store.corruptAtOpen)"])
        }
        let keys = ReceiverKeys(configuration.keys)
        let app = makeReceiver(configuration: configuration, sink: StdoutSink(store: store), wallClock: { System.unixNow() }, logger: logger,
                               onRunning: { port in logger.info("receiver listening", metadata: ["address": "\(configuration.host):\(port)"]) },
                               keys: keys)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: keys.reloader(flags: flags, logger: logger))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await CLI.orExit { try await group.run() }
    }
}

extension ConfigResolver {
    /// The receiver's settings from its flags and variables.
    public func receiverConfiguration() throws(ConfigError) -> ReceiverConfiguration {
        let (host, port) = try hostPort(ReceiverOptions.listen)
        let keys = try receiverKeys()
        let skew = try integer(ReceiverOptions.maxSkew, what: "seconds")
        let limit = try integer(ReceiverOptions.bodyLimit, what: "bytes")
        return ReceiverConfiguration(host: host, port: port, keys: keys, maxSkewSeconds: Int64(skew), bodyLimit: limit)
    }
}

extension ReceiverKeys {
    /// Reads the secret and the keyring again on SIGHUP (a rotation step), keeping the current
    /// keys if they cannot be read.
    public func reloader(flags: [String: String], logger: Logger) -> HangupReloader {
        HangupReloader("keys", logger: logger) { [self] in try reload(flags: flags) }
    }

    /// Reads the secret and the keyring again and takes them; returns their ids for the log
    /// (never a secret). Throws, keeping the current keys, when they cannot be read.
    public func reload(flags: [String: String]) throws -> String {
        let keys = try ConfigResolver.live(flags: flags).receiverKeys()
        replace(keys)
        return keys.map { $0.id ?? "(shared secret)" }.joined(separator: ",")
    }
}
