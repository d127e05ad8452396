import AgentCore
import AgentPlatform
import AgentLinux
import AgentShipping
import Logging
import ServiceLifecycle

/// Tails the auth log every second into the auth feed, and keeps its position (inode and
/// offset) in the queue directory so a restart resumes where it stopped.
public struct AuthMonitorService: Service {
    let path: String
    let positionFile: String
    let feed: AuthFeed
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    /// What the once-a-second poll sleeps on: the cycle loop's clock in the agent, so the tick
    /// wakes the loop's own thread instead of going through Dispatch's timer thread.
    let clock: any Clock<Duration>
    /// How long one tick may read (`defaultWorkPerTick`).
    let workPerTick: Duration

    public init(path: String, positionFile: String, feed: AuthFeed, wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                clock: any Clock<Duration> = ContinuousClock(), workPerTick: Duration = Self.defaultWorkPerTick) {
        self.path = path
        self.positionFile = positionFile
        self.feed = feed
        self.wallClock = wallClock
        self.logger = logger
        self.clock = clock
        self.workPerTick = workPerTick
    }

    /// `/var/log/auth.log` (Debian, Ubuntu), else `/var/log/secure` (RHEL), else nil.
    public static func autoDetect(exists: (String) -> Bool) -> String? {
        ["/var/log/auth.log", "/var/log/secure"].first(where: exists)
    }

    /// Each tick reads chunks of the tailer's `maxBytesPerPoll` until the log is caught up, each
    /// ingested and its position saved before the next (memory stays at one chunk's lines
    /// whatever the backlog, and a restart resumes after the last chunk taken), for at most
    /// `defaultWorkPerTick` of the second: about 300,000 lines a second on one core, so a 50,000
    /// lines/s attack is read as it is written, while a backlog of gigabytes never holds more
    /// than a quarter of a core. `maxChunksPerTick` bounds a tick whatever the clock does.
    public static let defaultWorkPerTick = Duration.milliseconds(250)
    static let maxChunksPerTick = 256

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            let tailer = FileTailer(path: path, resume: loadPosition(), maxBytesPerPoll: 256 << 10)
            var reported: String?
            var saved = tailer.position
            await repeatEvery(.seconds(1), clock: clock) {
                let began = ContinuousClock.now
                for _ in 0..<Self.maxChunksPerTick {
                    let lines = tailer.poll()
                    if tailer.openError != reported {
                        if let why = tailer.openError {
                            logger.warning("auth log not readable; will keep trying", metadata: ["path": "\(path)", "error": "\(why)"])
                        }
                        reported = tailer.openError
                    }
                    if !lines.isEmpty { feed.ingest(lines: lines, now: wallClock()) }
                    if let p = tailer.position, p != saved {
                        save(p)
                        saved = p
                    }
                    guard tailer.hasMore, !Task.isCancelled, ContinuousClock.now - began < workPerTick else { break }
                    await Task.yield()
                }
            }
        }
    }

    func loadPosition() -> TailPosition? {
        guard let text = try? FileReading.readToEnd(path: positionFile, limit: 4096) else { return nil }
        return TailPosition(text: text)
    }

    func save(_ p: TailPosition) {
        do {
            try FileOps.writeStateFile(positionFile, p.text)
        } catch {
            logger.warning("cannot save auth log position", metadata: ["error": "\(error)"])
        }
    }
}
