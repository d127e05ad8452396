import AgentCore
import Logging
import ServerPostgres
import ServerStore
import TestSupport
import Testing

/// The two stores the server runs on; the store-agnostic tests run against each.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// A store opened for one test; `close()` stops a PostgreSQL store's connection pool.
struct OpenStore {
    let store: any PayloadStore
    let url: String?
    let runner: Task<Void, Never>?

    func close() { runner?.cancel() }
}

extension StoreKind {
    func open(_ name: String) async throws -> OpenStore {
        switch self {
        case .sqlite:
            return OpenStore(store: try PayloadDatabase(path: Paths.tempDir(name) + "/monitoring.sqlite"), url: nil, runner: nil)
        case .postgres:
            let url = try await PostgresPeer.freshDatabase(name)
            let (store, runner) = try await Self.postgres(url)
            return OpenStore(store: store, url: url, runner: runner)
        }
    }

    /// A PostgreSQL store on `url`, running and migrated.
    static func postgres(_ url: String, writers: Int = 4) async throws -> (PostgresStore, Task<Void, Never>) {
        let store = PostgresStore(url: try DatabaseURL.parse(url, flag: "database"), writers: writers, logger: Logger(label: "test"))
        let runner = Task { await store.run() }
        do { try await store.migrate() } catch { runner.cancel(); throw error }
        return (store, runner)
    }
}
