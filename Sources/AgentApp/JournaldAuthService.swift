import AgentCore
import AgentPlatform
import AgentLinux
import AgentShipping
import Logging
import ServiceLifecycle

/// Follows sshd's and PAM's entries in the systemd journal (`journalctl -o json --follow`), for
/// distributions without an auth log file. Resumes after the cursor saved in the queue
/// directory; the first start reads no history from before the agent started. Restarts journalctl with backoff if it exits.
public struct JournaldAuthService: Service {
    public static let journalctl = "/usr/bin/journalctl"
    let cursorFile: String
    let feed: AuthFeed
    let wallClock: @Sendable () -> Int64
    let logger: Logger
    /// What the once-a-second poll sleeps on: the cycle loop's clock in the agent, so the tick
    /// wakes the loop's own thread instead of going through Dispatch's timer thread.
    let clock: any Clock<Duration>

    public init(cursorFile: String, feed: AuthFeed, wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                clock: any Clock<Duration> = ContinuousClock()) {
        self.cursorFile = cursorFile
        self.feed = feed
        self.wallClock = wallClock
        self.logger = logger
        self.clock = clock
    }

    /// journald is usable when journalctl exists and a journal directory does.
    public static func isAvailable(exists: (String) -> Bool) -> Bool {
        exists(journalctl) && (exists("/run/log/journal") || exists("/var/log/journal"))
    }

    /// Without a saved cursor, entries from the agent's start second on (`--since @start`): an
    /// entry written after the agent started but before journalctl attached is still read.
    func arguments(after cursor: String?, since start: Int64) -> [String] {
        // sshd's entries by name, or anything at the authpriv facility (10), where PAM modules of
        // every service log (`+` joins the two match groups with OR).
        var args = ["-o", "json", "--follow", "--no-pager", "SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sshd-session",
                    "SYSLOG_IDENTIFIER=sshd-auth", "+", "SYSLOG_FACILITY=10"]
        if let cursor { args += ["--after-cursor", cursor] } else { args += ["--since", "@\(start)"] }
        return args
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            let start = wallClock()
            var cursor = try? FileReading.readToEnd(path: cursorFile, limit: 4096).split(separator: "\n").first.map(String.init)
            var child: ChildProcess?
            var restartAt = ContinuousClock.now
            var backoff = Duration.seconds(1)
            await repeatEvery(.seconds(1), clock: clock, startingNow: true) {
                if child == nil, ContinuousClock.now >= restartAt {
                    do {
                        child = try ChildProcess(executable: Self.journalctl, arguments: arguments(after: cursor, since: start))
                    } catch {
                        logger.warning("cannot start journalctl", metadata: ["error": "\(error)"])
                    }
                }
                guard let c = child else { return }
                let (lines, exited) = c.poll()
                let entries = lines.compactMap(JournalEntry.parse)
                if !entries.isEmpty {
                    feed.ingest(journal: entries, now: wallClock())
                    cursor = entries.last!.cursor
                    save(cursor!)
                    backoff = .seconds(1)
                }
                if exited {
                    logger.warning("journalctl exited; restarting", metadata: ["in": "\(backoff)"])
                    child = nil
                    restartAt = ContinuousClock.now.advanced(by: backoff)
                    backoff = min(backoff * 2, .seconds(60))
                }
            }
            await child?.terminate()
        }
    }

    func save(_ cursor: String) {
        do {
            try FileOps.writeStateFile(cursorFile, cursor + "\n")
        } catch {
            logger.warning("cannot save journal cursor", metadata: ["error": "\(error)"])
        }
    }
}
