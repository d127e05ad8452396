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

    public init(executable: String, arguments: [String], maxLineBytes: Int = 64 << 10) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AgentError(.fileRead, "pipe failed", cause: Errno.current()) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
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

    deinit {
        terminate()
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

    /// Stops the child: SIGTERM, then SIGKILL if it has not exited after a second; then reaps it.
    public func terminate() {
        guard !reaped else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            if reap(block: false) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        reap(block: true)
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
