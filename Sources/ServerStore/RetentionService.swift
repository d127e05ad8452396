import AgentCore
import Logging
import ServiceLifecycle

/// Deletes payloads received more than `days` ago, at start and every hour, until shutdown.
public struct RetentionService: Service {
    let database: PayloadDatabase
    let days: Int
    let wallClock: @Sendable () -> Int64
    let logger: Logger

    public init(database: PayloadDatabase, days: Int, wallClock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.database = database
        self.days = days
        self.wallClock = wallClock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                await sweep()
                try? await Task.sleep(for: .seconds(3_600))
            }
        }
    }

    /// One pass: what was received before now minus the retention is deleted.
    public func sweep() async {
        let cutoff = wallClock() - Int64(days) * 86_400
        do {
            let gone = try await database.deleteReceived(before: cutoff)
            if gone > 0 { logger.info("retention: payloads deleted", metadata: ["payloads": "\(gone)", "retention_days": "\(days)"]) }
        } catch {
            logger.error("retention: delete failed", metadata: ["error": "\(error)"])
        }
    }
}
