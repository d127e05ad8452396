import AgentCore
import AgentDetect
@testable import AgentApp
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct AuthSourceSelectionTests {
    func config(_ source: AuthSourceChoice, log: String? = nil) -> AgentConfiguration {
        var c = AgentConfiguration.defaults(serverURL: "http://a", secret: Secret("s"), serverID: "x")
        c.authLog = log
        c.authSource = source
        return c
    }

    @Test func autoPrefersTheFileThenJournaldThenOff() {
        let debian: Set = ["/var/log/auth.log", "/usr/bin/journalctl", "/run/log/journal"]
        let rhel: Set = ["/var/log/secure"]
        let journalOnly: Set = ["/usr/bin/journalctl", "/var/log/journal"]
        #expect(chooseAuthSource(config(.auto), exists: debian.contains) == .file("/var/log/auth.log"))
        #expect(chooseAuthSource(config(.auto), exists: rhel.contains) == .file("/var/log/secure"))
        #expect(chooseAuthSource(config(.auto), exists: journalOnly.contains) == .journald)
        if case .off = chooseAuthSource(config(.auto), exists: { _ in false }) {} else { Issue.record("expected off") }
        #expect(chooseAuthSource(config(.auto, log: "/srv/auth.log"), exists: journalOnly.contains) == .file("/srv/auth.log"))
        #expect(chooseAuthSource(config(.journald), exists: debian.contains) == .journald)
        if case .off = chooseAuthSource(config(.none), exists: debian.contains) {} else { Issue.record("expected off") }
    }
}

/// Real journald (started by scripts/test.sh): entries sent over journald's syslog socket as
/// sshd would send them; the agent follows them with journalctl and raises BRUTE_FORCE.
@Suite(.serialized) struct JournaldPeerTests {
    @Test func journaldEntriesRaiseBruteForceAndTheCursorIsKept() async throws {
        try #require(FileManager.default.fileExists(atPath: "/run/systemd/journal/dev-log"),
                     "journald is not running: run the tests through scripts/test.sh")
        let dir = Paths.tempDir("journal")
        let secretFile = writeSecret(dir, "journal-secret")
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile)
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", secretFile, "--interval", "1",
            "--health-addr", "127.0.0.1:\(freePort())", "--queue-dir", dir + "/queue", "--auth-source", "journald",
            "--failed-auth-threshold", "4"], dir: dir)
        try await eventually("agent on journald") { agent.stderr.contains("auth_source=journald") }
        // Written at once, whether or not journalctl has attached yet: it starts at the agent's
        // start time (--since @start), so entries from before it attached are read too.
        let attacker = "192.0.2.\(Int.random(in: 10...250))"
        for i in 0..<3 { // three connections, each logged as PAM + Failed: three attempts
            let pid = "\(30_000 + i)"
            for msg in ["pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=\(attacker)  user=root",
                        "Failed password for root from \(attacker) port \(50_000 + i) ssh2"] {
                let out = try await runProcess("/usr/bin/logger", ["-u", "/run/systemd/journal/dev-log", "-t", "sshd", "--id=\(pid)", msg])
                #expect(out.isEmpty, "logger failed: \(out)")
            }
        }
        // The fourth from another service's PAM stack, at the authpriv facility.
        let ftp = "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=root rhost=\(attacker)"
        let out = try await runProcess("/usr/bin/logger", ["-u", "/run/systemd/journal/dev-log", "-p", "authpriv.notice", "-t", "vsftpd", "--id=31000", ftp])
        #expect(out.isEmpty, "logger failed: \(out)")
        try await eventually(timeout: 20, "BRUTE_FORCE:\(attacker)") {
            verifier.records().contains { $0.body.contains("BRUTE_FORCE:\(attacker)") }
        }
        let body = verifier.records().first { $0.body.contains("BRUTE_FORCE:\(attacker)") }?.body ?? ""
        #expect(body.contains(#""services":["sshd","vsftpd"]"#), "the detail names both services: \(body)")
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let cursor = try String(contentsOfFile: dir + "/queue/journal-cursor", encoding: .utf8)
        #expect(cursor.hasPrefix("s="), "cursor saved for the next start")
    }

    @Test func threeAttemptsLoggedTwiceEachStayBelowAThresholdOfFour() {
        let detectors = DetectorSet(Detectors.standard(DetectorSettings(failedAuthThreshold: 4, authWindowSeconds: 300, baselineSamples: 3, cpuSpikePct: 90)))
        let feed = AuthFeed(detectors: detectors)
        var entries = [JournalEntry]()
        for i in 0..<3 {
            entries.append(JournalEntry(message: "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.9  user=root", pid: Int32(100 + i), identifier: "sshd", cursor: "c"))
            entries.append(JournalEntry(message: "Failed password for root from 192.0.2.9 port 1 ssh2", pid: Int32(100 + i), identifier: "sshd", cursor: "c"))
        }
        feed.ingest(journal: entries, now: 1000)
        #expect(feed.counts.failures == 3)
        #expect(!detectors.findings(at: 1000).alerts.contains(Alert(.bruteForce, subject: "192.0.2.9")))
    }
}
