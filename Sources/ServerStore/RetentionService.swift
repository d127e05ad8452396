import AgentCore
import AgentServer
import Logging
import ServiceLifecycle

/// The store's upkeep at start and every hour until shutdown: what is older than `days` goes
/// (and a partitioned store makes the partitions of the days ahead).
public struct RetentionService: Service {
    let store: any PayloadStore
    let days: Int
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    let stats: ReceiverStats?

    public init(store: any PayloadStore, days: Int, wallClock: @escaping @Sendable () -> Int64, logger: Logger, stats: ReceiverStats? = nil) {
        self.stats = stats
        self.store = store
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

    /// One pass: what was kept longer than the retention is removed.
    public func sweep() async {
        do {
            let gone = try await store.maintain(now: wallClock(), retentionDays: days)
            stats?.expired(gone.payloads, days: gone.days.count)
            guard !gone.isEmpty else { return }
            var metadata: Logger.Metadata = ["retention_days": "\(days)"]
            if gone.payloads > 0 { metadata["payloads"] = "\(gone.payloads)" }
            if !gone.days.isEmpty { metadata["days_dropped"] = "\(gone.days.joined(separator: ","))" }
            logger.info("retention: expired data removed", metadata: metadata)
        } catch {
            stats?.retentionFailed()
            logger.error("retention: upkeep failed", metadata: ["error": "\(error)"])
        }
    }
}
