import AgentCore
#if canImport(Glibc)
import Glibc
#endif

/// A child process whose stdout is read without blocking, line by line (posix_spawn, a pipe
/// with O_NONBLOCK). Used to follow `journalctl --follow`; polled from a timer like the tailer.
public final class ChildProcess {
    public let pid: pid_t
    private let readFD: Int32
    private var splitter: LineSplitter
    private var reaped = false
    public let maxLineBytes: Int

    /// The child's stderr goes to `stderrPath` (appended), by default nowhere.
    public init(executable: String, arguments: [String], maxLineBytes: Int = 64 << 10, stderrPath: String = "/dev/null") throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AgentError(.fileRead, "pipe failed", cause: Errno.current()) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        // The agent ignores SIGTERM/SIGINT (its ServiceGroup handles them) and ignored signals
        // survive exec: restore every signal's default and an empty mask so the child behaves
        // as if started from a shell (and can be stopped).
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in 1..<32 where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, Int32(sig)) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attr, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw AgentError(.fileRead, "cannot start \(executable)", cause: Errno(code: rc))
        }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        pid = child
        readFD = fds[0]
        self.maxLineBytes = maxLineBytes
        self.splitter = LineSplitter(maxLineBytes: maxLineBytes)
    }

    /// A child still running when its owner lets go is killed at once: a deinit cannot wait.
    deinit {
        if !reap(block: false) {
            kill(pid, SIGKILL)
            reap(block: true)
        }
        close(readFD)
    }

    /// Complete lines written since the last call; `exited` once the child is gone and drained.
    public func poll() -> (lines: [String], exited: Bool) {
        var lines = [String]()
        // Uninitialised scratch space: no 64 KB zero-fill on every poll.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 << 10) { buf in
            while true {
                let n = read(readFD, buf.baseAddress, buf.count)
                if n > 0 {
                    splitter.feed(UnsafeBufferPointer(rebasing: buf[..<n]), into: &lines)
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                let eof = n == 0
                return (lines, eof && reap(block: false))
            }
        }
    }

    /// How `terminate` ended the child.
    public enum Ending: Sendable, Equatable {
        /// It had exited already.
        case exited
        /// It exited after SIGTERM.
        case stopped
        /// It ignored SIGTERM for the whole grace period and was killed.
        case killed
    }

    /// Stops the child: SIGTERM, then SIGKILL if it has not exited within `grace`; then reaps it.
    /// Waits by sleeping, so the thread it runs on (the cycle loop) keeps serving other work.
    @discardableResult
    public func terminate(grace: Duration = .seconds(1)) async -> Ending {
        guard !reap(block: false) else { return .exited }
        kill(pid, SIGTERM)
        // In a task of its own: the caller is usually shutting down, and a cancelled task's
        // sleep returns at once, which would turn the wait into a busy loop.
        let pid = self.pid
        let exited = await Task.detached { () -> Bool in
            let deadline = ContinuousClock.now.advanced(by: grace)
            var status: Int32 = 0
            repeat {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { return true }
                try? await Task.sleep(for: .milliseconds(10))
            } while ContinuousClock.now < deadline
            return false
        }.value
        if exited { reaped = true; return .stopped }
        kill(pid, SIGKILL)
        reap(block: true) // returns at once: SIGKILL cannot be caught
        return .killed
    }

    @discardableResult
    private func reap(block: Bool) -> Bool {
        if reaped { return true }
        var status: Int32 = 0
        let r = waitpid(pid, &status, block ? 0 : WNOHANG)
        if r == pid || (r < 0 && errno == ECHILD) { reaped = true }
        return reaped
    }
}
