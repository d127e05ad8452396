@testable import AgentPlatform
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ChildProcessTests {
    @Test func readsLinesWithoutBlockingAndSeesExit() async throws {
        let c = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo one; echo two; sleep 0.2; printf 'three\\npart'"])
        var lines = [String]()
        var exited = false
        for _ in 0..<100 where !exited {
            let r = c.poll()
            lines += r.lines
            exited = r.exited
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(lines == ["one", "two", "three"] && exited)
    }

    @Test func stopsAChildEvenWhenTheParentIgnoresSIGTERM() async throws {
        // The agent runs with SIGTERM ignored (ServiceLifecycle); the child must not inherit that.
        let old = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, old) }
        let c = try ChildProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(await c.terminate(grace: .seconds(20)) == .stopped, "stopped by SIGTERM, not by the SIGKILL fallback")
        #expect(kill(c.pid, 0) != 0, "reaped")
        #expect(await c.terminate() == .exited)
    }

    /// A child that ignores SIGTERM is killed once the grace period is over, and reaped.
    @Test func aChildIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let c = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "trap '' TERM; while :; do sleep 0.05; done"])
        try await Task.sleep(for: .milliseconds(200)) // let the shell install its trap
        #expect(await c.terminate(grace: .milliseconds(300)) == .killed)
        #expect(kill(c.pid, 0) != 0, "reaped")
    }

    /// Shutting down cancels the task that stops the child; a child that takes a moment to exit
    /// after SIGTERM still gets its grace period instead of SIGKILL.
    @Test func terminateFromACancelledTaskStillGivesTheGrace() async throws {
        let c = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.05; done"])
        try await Task.sleep(for: .milliseconds(200)) // let the shell install its trap
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await c.terminate(grace: .seconds(20))
        }
        #expect(await task.value == .stopped)
    }
}
