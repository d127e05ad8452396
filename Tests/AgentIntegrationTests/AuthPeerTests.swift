import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real sshd + rsyslog (started by scripts/test.sh): failed logins on loopback must reach the
/// receiver as BRUTE_FORCE:127.0.0.1. Fails, never skips, when the peers are not running.
@Suite(.serialized) struct AuthPeerTests {
    /// The receiver and an agent tailing the real auth log, started at its end.
    struct Rig {
        var dir: String
        var sshdPort: String
        var receiver: Peer
        var agent: Peer

        static func start(_ name: String, _ flags: [String]) async throws -> Rig {
            let env = ProcessInfo.processInfo.environment
            let authLog = try #require(env["MA_AUTH_LOG"], "MA_AUTH_LOG unset: run the tests through scripts/test.sh, which starts sshd and rsyslog")
            let sshdPort = try #require(env["MA_SSHD_PORT"])
            #expect(FileManager.default.fileExists(atPath: authLog))
            let dir = Paths.tempDir(name)
            let secretFile = writeSecret(dir, "ssh-test-secret")
            let port = freePort()
            let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)"], dir: dir)
            try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
            let agent = try Peer("agent", try Paths.agentBinary(), [
                "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", secretFile, "--interval", "1",
                "--health-addr", "127.0.0.1:\(freePort())", "--queue-dir", dir + "/queue", "--auth-log", authLog] + flags, dir: dir)
            try await eventually("agent tailing \(authLog)") { agent.stderr.contains("auth_source=file \(authLog)") }
            try await Task.sleep(for: .seconds(1.5)) // the tailer starts at the end of the file
            return Rig(dir: dir, sshdPort: sshdPort, receiver: receiver, agent: agent)
        }

        /// One password login attempt over ssh (one attempt per connection).
        func ssh(_ name: String, user: String, password: String) throws -> Peer {
            try Peer(name, "/usr/bin/sshpass", ["-p", password, "ssh", "-p", sshdPort,
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
                "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-o", "LogLevel=ERROR",
                "\(user)@127.0.0.1", "true"], dir: dir)
        }

        var payloads: [Payload] {
            receiver.stdout.split(separator: "\n").compactMap { try? PayloadCoding.decode(Array($0.utf8)) }
        }

        func stop() async {
            agent.signal(SIGTERM)
            #expect(await agent.waitExit(timeout: 20) == 0)
            receiver.signal(SIGTERM)
            _ = await receiver.waitExit(timeout: 5)
        }
    }

    @Test func failedSSHLoginsRaiseBruteForceAtTheReceiver() async throws {
        let rig = try await Rig.start("ssh", ["--failed-auth-threshold", "3", "--auth-window-seconds", "120"])
        // Three failed password logins (one attempt each), in parallel: PAM delays each ~2-3 s.
        let attempts = try (0..<3).map { i in try rig.ssh("ssh-\(i)", user: "nosuchuser\(i)", password: "wrong-password") }
        for a in attempts { _ = await a.waitExit(timeout: 20) }
        try await eventually(timeout: 20, "BRUTE_FORCE:127.0.0.1 at the receiver") {
            rig.payloads.contains { $0.localAlerts.contains("BRUTE_FORCE:127.0.0.1") }
        }
        let alerted = rig.payloads.first { $0.localAlerts.contains("BRUTE_FORCE:127.0.0.1") }
        #expect(alerted?.score ?? 0 >= 0.5 && alerted?.simulated == nil)
        let detail = alerted?.alertsDetail.first { $0.rule == .bruteForce }
        #expect(detail?.source == "127.0.0.1" && detail?.services == ["sshd"] && (detail?.failures ?? 0) >= 3)
        await rig.stop()
        // The position was saved for a restart.
        #expect(FileManager.default.fileExists(atPath: rig.dir + "/queue/auth-position"))
    }

    /// Two wrong passwords for a real account, then the right one: the brute force that worked,
    /// from sshd's own lines to the receiver (scripts/test.sh creates the account).
    @Test func loginAfterFailuresReachesTheReceiver() async throws {
        let rig = try await Rig.start("ssh-login", ["--failed-auth-threshold", "2", "--auth-window-seconds", "300"])
        for i in 0..<2 { _ = await (try rig.ssh("wrong-\(i)", user: "matest", password: "wrong-password")).waitExit(timeout: 20) }
        let ok = try rig.ssh("right", user: "matest", password: "matest-right-pass")
        #expect(await ok.waitExit(timeout: 20) == 0, "the right password logs in: \(ok.stderr)")
        try await eventually(timeout: 20, "LOGIN_AFTER_FAILURES:127.0.0.1 at the receiver") {
            rig.payloads.contains { $0.localAlerts.contains("LOGIN_AFTER_FAILURES:127.0.0.1") }
        }
        let p = try #require(rig.payloads.first { $0.localAlerts.contains("LOGIN_AFTER_FAILURES:127.0.0.1") })
        let detail = p.alertsDetail.first { $0.rule == .loginAfterFailures }
        #expect(detail?.user == "matest" && detail?.method == "password" && (detail?.failures ?? 0) >= 2)
        #expect(p.score >= 0.9)
        await rig.stop()
    }
}
