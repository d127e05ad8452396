import AgentCore
import AgentLinux
import AgentShipping
import Logging
import ServiceLifecycle

/// Tails the auth log every second into the security signals, and keeps its position (inode and
/// offset) in the queue directory so a restart resumes where it stopped.
public struct AuthMonitorService: Service {
    let path: String
    let positionFile: String
    let signals: SecuritySignals
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    /// What the once-a-second poll sleeps on: the cycle loop's clock in the agent, so the tick
    /// wakes the loop's own thread instead of going through Dispatch's timer thread.
    let clock: any Clock<Duration>

    public init(path: String, positionFile: String, signals: SecuritySignals, wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                clock: any Clock<Duration> = ContinuousClock()) {
        self.path = path
        self.positionFile = positionFile
        self.signals = signals
        self.wallClock = wallClock
        self.logger = logger
        self.clock = clock
    }

    /// `/var/log/auth.log` (Debian, Ubuntu), else `/var/log/secure` (RHEL), else nil.
    public static func autoDetect(exists: (String) -> Bool) -> String? {
        ["/var/log/auth.log", "/var/log/secure"].first(where: exists)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            let tailer = FileTailer(path: path, resume: loadPosition())
            if !tailer.isOpen { logger.warning("auth log not readable yet; will keep trying", metadata: ["path": "\(path)"]) }
            var saved = tailer.position
            await repeatEvery(.seconds(1), clock: clock) {
                let lines = tailer.poll()
                if !lines.isEmpty { signals.ingest(lines: lines, now: wallClock()) }
                if let p = tailer.position, p != saved {
                    save(p)
                    saved = p
                }
            }
        }
    }

    func loadPosition() -> TailPosition? {
        guard let text = try? FileReading.readToEnd(path: positionFile) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let inode = UInt64(parts[0]), let offset = Int64(parts[1]) else { return nil }
        return TailPosition(inode: inode, offset: offset)
    }

    func save(_ p: TailPosition) {
        do {
            try FileOps.writeStateFile(positionFile, "\(p.inode) \(p.offset)\n")
        } catch {
            logger.warning("cannot save auth log position", metadata: ["error": "\(error)"])
        }
    }
}
