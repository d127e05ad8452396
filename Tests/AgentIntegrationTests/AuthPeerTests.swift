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
    @Test func failedSSHLoginsRaiseBruteForceAtTheReceiver() async throws {
        let env = ProcessInfo.processInfo.environment
        let authLog = try #require(env["MA_AUTH_LOG"], "MA_AUTH_LOG unset: run the tests through scripts/test.sh, which starts sshd and rsyslog")
        let sshdPort = try #require(env["MA_SSHD_PORT"])
        #expect(FileManager.default.fileExists(atPath: authLog))
        let dir = Paths.tempDir("ssh")
        let secretFile = writeSecret(dir, "ssh-test-secret")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)"], dir: dir)
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", secretFile, "--interval", "1",
            "--health-addr", "127.0.0.1:\(freePort())", "--queue-dir", dir + "/queue",
            "--auth-log", authLog, "--failed-auth-threshold", "3", "--auth-window-seconds", "120"], dir: dir)
        try await eventually("agent tailing \(authLog)") { agent.stderr.contains("auth_source=file \(authLog)") }
        try await Task.sleep(for: .seconds(1.5)) // the tailer starts at the end of the file

        // Three failed password logins (one attempt each), in parallel: PAM delays each ~2-3 s.
        let attempts = try (0..<3).map { i in
            try Peer("ssh-\(i)", "/usr/bin/sshpass", ["-p", "wrong-password", "ssh", "-p", sshdPort,
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
                "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-o", "LogLevel=ERROR",
                "nosuchuser\(i)@127.0.0.1", "true"], dir: dir)
        }
        for a in attempts { _ = await a.waitExit(timeout: 20) }
        try await eventually(timeout: 20, "BRUTE_FORCE:127.0.0.1 at the receiver") {
            receiver.stdout.split(separator: "\n").contains { line in
                (try? PayloadCoding.decode(Array(line.utf8)).localAlerts.contains("BRUTE_FORCE:127.0.0.1")) == true
            }
        }
        let alerted = receiver.stdout.split(separator: "\n").compactMap { try? PayloadCoding.decode(Array($0.utf8)) }
            .first { $0.localAlerts.contains("BRUTE_FORCE:127.0.0.1") }
        #expect(alerted?.score ?? 0 >= 0.5 && alerted?.simulated == nil)
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 5) == 0)
        receiver.signal(SIGTERM)
        _ = await receiver.waitExit(timeout: 5)
        // The position was saved for a restart.
        #expect(FileManager.default.fileExists(atPath: dir + "/queue/auth-position"))
    }
}
