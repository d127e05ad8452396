import AgentApp
import AgentCore
import AgentServer
import ArgumentParser
import Logging
import ServerDashboard
import ServerPostgres
import ServerStore
import AgentPlatform
import ServiceLifecycle

/// `monitoring-server`: the fleet's receiver. Verifies signed payloads as `monitoring-agent
/// receive` does and stores each one, once, in SQLite (`--data`) or PostgreSQL (`--database`),
/// deleting what is older than `--retention-days`. A separate executable: the stores (GRDB and
/// with it all of Foundation, postgres-nio) are never loaded into an agent.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitoring-server",
        abstract: "Accept signed payloads from agents, verify them, store each once in SQLite or PostgreSQL.")

    @Option(name: ReceiverOptions.listen.name, help: ReceiverOptions.listen.help) var listen: String?
    @Option(name: AgentOptions.secret.name, help: AgentOptions.secret.help) var secret: String?
    @Option(name: AgentOptions.secretFile.name, help: AgentOptions.secretFile.help) var secretFile: String?
    @Option(name: ReceiverOptions.keyring.name, help: ReceiverOptions.keyring.help) var keyring: String?
    @Option(name: ReceiverOptions.maxSkew.name, help: ReceiverOptions.maxSkew.help) var maxSkew: String?
    @Option(name: ReceiverOptions.bodyLimit.name, help: ReceiverOptions.bodyLimit.help) var bodyLimit: String?
    @Option(name: ServerOptions.data.name, help: ServerOptions.data.help) var data: String?
    @Option(name: ServerOptions.database.name, help: ServerOptions.database.help) var database: String?
    @Option(name: ServerOptions.printPayloads.name, help: ServerOptions.printPayloads.help) var printPayloads: String?
    @Option(name: ServerOptions.retentionDays.name, help: ServerOptions.retentionDays.help) var retentionDays: String?
    @Option(name: ServerOptions.dashboardUsers.name, help: ServerOptions.dashboardUsers.help) var dashboardUsers: String?
    @Option(name: ServerOptions.tlsCertificate.name, help: ServerOptions.tlsCertificate.help) var tlsCert: String?
    @Option(name: ServerOptions.tlsKey.name, help: ServerOptions.tlsKey.help) var tlsKey: String?
    @Option(name: ServerOptions.failureLimit.name, help: ServerOptions.failureLimit.help) var failureLimit: String?
    @Option(name: AgentOptions.logLevel.name, help: AgentOptions.logLevel.help) var logLevel: String?
    @Option(name: AgentOptions.logFormat.name, help: AgentOptions.logFormat.help) var logFormat: String?

    mutating func run() async throws {
        let flags = CLI.givenFlags(self, ServerOptions.all)
        let resolver = ConfigResolver.live(flags: flags)
        var configuration = try CLI.resolveOrExit(try resolver.receiverConfiguration())
        configuration.failureLimit = try CLI.resolveOrExit(try resolver.integer(ServerOptions.failureLimit, what: "requests"))
        let retention = try CLI.resolveOrExit(try resolver.integer(ServerOptions.retentionDays, what: "days"))
        let logger = try CLI.bootstrapLogging(resolver, label: "monitoring-server")
        let printing = resolver.string(ServerOptions.printPayloads)
        guard let echo = PrintingSink.Format(rawValue: printing) else {
            CLI.printError("--print-payloads: must be none, lines or json, got \"\(printing.prefix(40))\"")
            throw ExitCode(CLI.usageExitCode)
        }
        let usersFile = resolver.string(ServerOptions.dashboardUsers)
        var users: DashboardUsers?
        if !usersFile.isEmpty {
            do { users = DashboardUsers(try Self.readUsers(usersFile)) } catch {
                CLI.printError("--dashboard-users: \(error)")
                throw ExitCode(CLI.usageExitCode)
            }
        }
        let tls = try CLI.resolveOrExit(try Self.tls(resolver))
        if users == nil, !["127.0.0.1", "::1", "localhost"].contains(configuration.host) {
            logger.warning("the dashboard has no sign-in (--dashboard-users): whoever reaches this address sees the fleet",
                           metadata: ["address": "\(configuration.host)"])
        }
        let text = resolver.string(ServerOptions.database)
        if !text.isEmpty {
            let url = try CLI.resolveOrExit(try DatabaseURL.parse(text, flag: ServerOptions.database.flag,
                                                                  passwordFromEnvironment: resolver.environment["PGPASSWORD"]))
            let store = PostgresStore(url: url, logger: logger)
            // The pool runs beside the services and stops after them: requests in flight at
            // shutdown finish their transactions first.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await CLI.orExit { try await store.migrate() }
                try await serve(store, configuration: configuration, retention: retention, echo: echo, users: users, tls: tls, flags: flags, logger: logger)
            }
        } else {
            let dir = resolver.string(ServerOptions.data)
            let store = try CLI.orExit {
                try FileOps.makeDirectory(dir)
                return try PayloadDatabase(path: dir + "/monitoring.sqlite")
            }
            try await serve(store, configuration: configuration, retention: retention, echo: echo, users: users, tls: tls, flags: flags, logger: logger)
        }
    }

    /// The receiver with the dashboard, the store's upkeep and the keyring's reloader, until SIGTERM or SIGINT.
    func serve(_ store: any PayloadStore, configuration: ReceiverConfiguration, retention: Int, echo: PrintingSink.Format,
               users: DashboardUsers?, tls: ServerTLS?, flags: [String: String], logger: Logger) async throws {
        let (stored, migrations) = try await CLI.orExit { (try await store.payloadCount(), try await store.appliedMigrations()) }
        logger.info("database open", metadata: ["location": "\(store.location)", "payloads": "\(stored)", "migrations": "\(migrations)"])
        let wallClock: @Sendable () -> Int64 = { System.unixNow() }
        let keys = ReceiverKeys(configuration.keys)
        let stats = ReceiverStats(version: AgentVersion.current, tls: tls)
        let probe = StoreProbe(store: store, stats: stats, logger: logger)
        let sink = PrintingSink(inner: DatabaseSink(store: store, retentionDays: retention, wallClock: wallClock), format: echo)
        let scheme = tls == nil ? "http" : "https"
        let app = makeReceiver(configuration: configuration, sink: sink, wallClock: wallClock, logger: logger,
                               onRunning: { port in
                                   var metadata: Logger.Metadata = ["address": "\(configuration.host):\(port)", "scheme": "\(scheme)"]
                                   if let tls { metadata["tls"] = "\(tls.summary)" }
                                   logger.info("server listening", metadata: metadata)
                               },
                               routes: {
                                   StatusRoutes.register(on: $0, probe: probe, stats: stats, version: AgentVersion.current)
                                   DashboardRoutes.register(on: $0, store: store, wallClock: wallClock, users: users)
                               }, keys: keys, stats: stats, tls: tls)
        let upkeep = RetentionService(store: store, days: retention, wallClock: wallClock, logger: logger, stats: stats)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: upkeep),
                                                                 .init(service: reloader(keys: keys, users: users, tls: tls, flags: flags, logger: logger))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await CLI.orExit { try await group.run() }
    }
}

extension ServerCommand {
    /// `--tls-cert` and `--tls-key` together, or neither.
    static func tls(_ resolver: ConfigResolver) throws(ConfigError) -> ServerTLS? {
        let cert = resolver.string(ServerOptions.tlsCertificate), key = resolver.string(ServerOptions.tlsKey)
        switch (cert.isEmpty, key.isEmpty) {
        case (true, true): return nil
        case (false, true): throw ConfigError(flag: ServerOptions.tlsKey.flag, "required with --tls-cert")
        case (true, false): throw ConfigError(flag: ServerOptions.tlsCertificate.flag, "required with --tls-key")
        case (false, false): return try ServerTLS(certificatePath: cert, keyPath: key)
        }
    }

    static func readUsers(_ path: String) throws -> [String: String] {
        try DashboardUsers.parse(try FileOps.readAll(path), path: path)
    }

    /// On SIGHUP, the keys, the dashboard's users and the TLS certificate are read again; each
    /// that cannot be read or parsed keeps what it had loaded.
    func reloader(keys: ReceiverKeys, users: DashboardUsers?, tls: ServerTLS?, flags: [String: String], logger: Logger) -> HangupReloader {
        let path = ConfigResolver.live(flags: flags).string(ServerOptions.dashboardUsers)
        let what = ["keys"] + (users == nil ? [] : ["dashboard users"]) + (tls == nil ? [] : ["TLS certificate"])
        return HangupReloader(what.joined(separator: ", "), logger: logger) {
            var loaded = [String]()
            var failures = [String]()
            do { loaded.append(try keys.reload(flags: flags)) } catch { failures.append("\(error)") }
            if let users {
                do {
                    users.replace(try Self.readUsers(path))
                    loaded.append("dashboard users " + users.names.joined(separator: ","))
                } catch { failures.append("\(error)") }
            }
            if let tls {
                do { loaded.append(try tls.reload()) } catch { failures.append("\(error)") }
            }
            guard failures.isEmpty else { throw ReloadFailure(description: (failures + loaded.map { "loaded " + $0 }).joined(separator: "; ")) }
            return loaded.joined(separator: "; ")
        }
    }
}

struct ReloadFailure: Error, CustomStringConvertible {
    let description: String
}

/// Prints each payload the store newly kept on stdout (`--print-payloads`), one write per line:
/// how `monitoring-agent demo` shows what the server stored.
struct PrintingSink: PayloadSink {
    enum Format: String { case none, lines, json }
    let inner: DatabaseSink
    let format: Format

    var deduplicates: Bool { inner.deduplicates }

    func accept(_ payload: Payload, body: [UInt8]) async throws -> SinkResult {
        try await accept(payload, body: body, keyID: nil)
    }

    func accept(_ payload: Payload, body: [UInt8], keyID: String?) async throws -> SinkResult {
        let result = try await inner.accept(payload, body: body, keyID: keyID)
        guard result == .stored else { return result }
        switch format {
        case .none: break
        case .lines: CLI.writeAll(1, Array((PayloadSummary.line(payload) + "\n").utf8))
        case .json: CLI.writeAll(1, StdoutSink.line(payload, body: body) + [0x0A])
        }
        return result
    }
}

@main
enum Entry {
    static func main() {
        SynchronousMain.run { await ServerCommand.main() }
    }
}
