import AgentApp
import AgentCore
import AgentServer
import ArgumentParser
import Logging
import ServerDashboard
import ServerStore
import AgentPlatform
import ServiceLifecycle

/// `monitoring-server`: the fleet's receiver. Verifies signed payloads as `monitoring-agent
/// receive` does and stores each one, once, in SQLite (`--data`), deleting what is older than
/// `--retention-days`. A separate executable: the store (GRDB, and with it all of Foundation) is
/// never loaded into an agent.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitoring-server",
        abstract: "Accept signed payloads from agents, verify them, store each once in SQLite.")

    @Option(name: ReceiverOptions.listen.name, help: ReceiverOptions.listen.help) var listen: String?
    @Option(name: AgentOptions.secret.name, help: AgentOptions.secret.help) var secret: String?
    @Option(name: AgentOptions.secretFile.name, help: AgentOptions.secretFile.help) var secretFile: String?
    @Option(name: ReceiverOptions.keyring.name, help: ReceiverOptions.keyring.help) var keyring: String?
    @Option(name: ReceiverOptions.maxSkew.name, help: ReceiverOptions.maxSkew.help) var maxSkew: String?
    @Option(name: ReceiverOptions.bodyLimit.name, help: ReceiverOptions.bodyLimit.help) var bodyLimit: String?
    @Option(name: ServerOptions.data.name, help: ServerOptions.data.help) var data: String?
    @Option(name: ServerOptions.retentionDays.name, help: ServerOptions.retentionDays.help) var retentionDays: String?
    @Option(name: AgentOptions.logLevel.name, help: AgentOptions.logLevel.help) var logLevel: String?
    @Option(name: AgentOptions.logFormat.name, help: AgentOptions.logFormat.help) var logFormat: String?

    mutating func run() async throws {
        let flags = CLI.givenFlags(self, ServerOptions.all)
        let resolver = ConfigResolver.live(flags: flags)
        let configuration = try CLI.resolveOrExit(try resolver.receiverConfiguration())
        let retention = try CLI.resolveOrExit(try resolver.integer(ServerOptions.retentionDays, what: "days"))
        let logger = try CLI.bootstrapLogging(resolver, label: "monitoring-server")
        let dir = resolver.string(ServerOptions.data)
        let database = try CLI.orExit {
            try FileOps.makeDirectory(dir)
            return try PayloadDatabase(path: dir + "/monitoring.sqlite")
        }
        let (stored, migrations) = try CLI.orExit { (try database.payloadCount, try database.appliedMigrations()) }
        logger.info("database open", metadata: ["path": "\(database.path)", "payloads": "\(stored)", "migrations": "\(migrations)"])
        let wallClock: @Sendable () -> Int64 = { System.unixNow() }
        let keys = ReceiverKeys(configuration.keys)
        let app = makeReceiver(configuration: configuration, sink: DatabaseSink(database: database, wallClock: wallClock),
                               wallClock: wallClock, logger: logger,
                               onRunning: { port in logger.info("server listening", metadata: ["address": "\(configuration.host):\(port)"]) },
                               routes: { DashboardRoutes.register(on: $0, database: database, wallClock: wallClock) }, keys: keys)
        let retentionService = RetentionService(database: database, days: retention, wallClock: wallClock, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: retentionService),
                                                                 .init(service: keys.reloader(flags: flags, logger: logger))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await CLI.orExit { try await group.run() }
    }
}

@main
enum Entry {
    static func main() {
        SynchronousMain.run { await ServerCommand.main() }
    }
}
