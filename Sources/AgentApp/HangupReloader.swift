import Logging
import ServiceLifecycle
import UnixSignals

/// Runs `reload` on every SIGHUP until graceful shutdown: what an operator sends after replacing
/// a secret file or a keyring (`systemctl reload`). A failed reload keeps what was loaded and logs
/// why (never a secret).
public struct HangupReloader: Service {
    let what: String
    let reload: @Sendable () async throws -> String
    let logger: Logger

    /// `reload` returns what it loaded, for the log (key ids, never secrets).
    public init(_ what: String, logger: Logger, reload: @escaping @Sendable () async throws -> String) {
        self.what = what
        self.reload = reload
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown { [self] in
            for await _ in signals {
                do {
                    let loaded = try await reload()
                    logger.notice("reloaded on SIGHUP", metadata: ["what": "\(what)", "loaded": "\(loaded)"])
                } catch {
                    logger.error("reload on SIGHUP failed: kept what was loaded", metadata: ["what": "\(what)", "error": "\(error)"])
                }
            }
        }
    }
}
