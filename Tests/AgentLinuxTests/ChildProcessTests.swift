@testable import AgentLinux
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

    @Test func stopsAChildEvenWhenTheParentIgnoresSIGTERM() throws {
        // The agent runs with SIGTERM ignored (ServiceLifecycle); the child must not inherit that.
        let old = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, old) }
        let c = try ChildProcess(executable: "/bin/sleep", arguments: ["30"])
        let start = Date()
        c.terminate()
        #expect(Date().timeIntervalSince(start) < 0.9, "stopped by SIGTERM, not by the SIGKILL fallback")
        #expect(kill(c.pid, 0) != 0, "reaped")
    }
}
