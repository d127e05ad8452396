import AgentCore
import AgentDetect
@testable import AgentApp
import Foundation
import Logging
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile input through the real binary (docs/SECURITY.md): a server that answers with
/// overflowing dates, configuration that would overflow, FIFOs where files should be, idle
/// clients holding the health port, and workload text in the logs.
@Suite(.serialized) struct HostileInputBinaryTests {
    func scriptedServer(_ mode: String, dir: String) async throws -> (Peer, Int) {
        let peer = try Peer("http-\(mode)", "/usr/bin/env", ["python3", Paths.support + "/scripted_http_server.py", mode], dir: dir)
        return (peer, try await peer.waitReadyPort("scripted server ready"))
    }

    /// An agent tailing an empty auth log of its own, sending to a scripted server, with its
    /// health port up: (dir, server, agent, log path, health port).
    func authFileAgent(_ name: String, _ extra: [String] = []) async throws -> (String, Peer, Peer, String, Int) {
        let dir = Paths.tempDir(name)
        let (server, port) = try await scriptedServer("keepalive", dir: dir)
        let log = dir + "/auth.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let health = freePort()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret", "s", "--interval", "1",
            "--health-addr", "127.0.0.1:\(health)", "--queue-dir", dir + "/queue", "--auth-source", "file",
            "--auth-log", log, "--docker-socket", "none"] + extra, dir: dir)
        try await eventuallyAsync("health up") { (try? await httpGet("http://127.0.0.1:\(health)/healthz"))?.status == 200 }
        return (dir, server, agent, log, health)
    }

    /// Appends generated lines (Tests/Support/auth_flood.py) to `log` in one write; returns the
    /// bytes appended. Made by a child process: tens of MB of text built here would hold one of
    /// the test runner's few threads for seconds.
    func appendGenerated(_ log: String, _ mode: String, dir: String) async throws -> Int {
        let gen = try Peer("gen-\(mode)", "/usr/bin/env", ["python3", Paths.support + "/auth_flood.py", log, mode], dir: dir)
        #expect(await gen.waitExit(timeout: 120) == 0)
        return Int(gen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// A Date (or Retry-After) the day arithmetic cannot hold would trap the agent, and again at
    /// every restart while the payload is queued: a Date is ignored and the agent keeps sending;
    /// a Retry-After is held to its longest pause (an hour), and the agent keeps running.
    @Test(arguments: ["hostile-date", "hostile-retry"])
    func overflowingServerDatesNeverCrashTheAgent(_ mode: String) async throws {
        let dir = Paths.tempDir("hostile-\(mode)")
        let (server, port) = try await scriptedServer(mode, dir: dir)
        defer { server.stop() }
        for run in 0..<2 { // the second start finds the payloads the first one queued
            let health = freePort()
            let agent = try Peer("agent-\(run)", try Paths.agentBinary(), [
                "--server-url", "http://127.0.0.1:\(port)/", "--secret", "s", "--interval", "0.3", "--send-timeout", "2",
                "--health-addr", "127.0.0.1:\(health)", "--queue-dir", dir + "/queue", "--auth-source", "none",
                "--docker-socket", "none"], dir: dir)
            let before = server.stdout.split(separator: "\n").count
            // A 503 whose Retry-After asks for ages pauses every send (an hour at most): one request per start.
            let expected = mode == "hostile-retry" ? 1 : 3
            try await eventually(timeout: 20, "requests reach the hostile server") { server.stdout.split(separator: "\n").count >= before + expected }
            if mode == "hostile-retry" {
                try await eventuallyAsync(timeout: 10, "the pause is in /healthz, an hour at most") {
                    guard let body = try? await httpGet("http://127.0.0.1:\(health)/healthz").body,
                          let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                          let until = json["server_hold_until"] as? String, let t = RFC3339.parse(until) else { return false }
                    let now = Int64(Date().timeIntervalSince1970)
                    return t > now + 3_000 && t <= now + 3_601
                }
            }
            #expect(agent.process.isRunning, "still running: \(agent.stderr.suffix(400))")
            agent.signal(SIGTERM)
            #expect(await agent.waitExit(timeout: 20) == 0)
        }
    }

    /// Values that would overflow later (or flood the server) exit 64 naming the flag.
    @Test(arguments: [("INTERVAL", "1e300", "--interval"), ("INTERVAL", "1e-9", "--interval"), ("SEND_TIMEOUT", "1e300", "--send-timeout"),
                      ("AUTH_WINDOW_SECONDS", "9223372036854775807", "--auth-window-seconds"),
                      ("MAX_LOG_LINE_BYTES", "9223372036854775807", "--max-log-line-bytes"),
                      ("MAX_LOG_ENTRIES", "9223372036854775807", "--max-log-entries"),
                      ("MAX_DOCKER_EVENTS", "9223372036854775807", "--max-docker-events"),
                      ("SERVER_URL", "http://127.0.0.1:1/\r\nX-Evil: 1", "--server-url")])
    func overflowingConfigurationExits64(_ variable: String, _ value: String, _ flag: String) async throws {
        let dir = Paths.tempDir("hostile-config")
        var env = ["SERVER_URL": "http://127.0.0.1:1/", "SECRET": "s", "HEALTH_ADDR": "127.0.0.1:\(freePort())"]
        env[variable] = value
        let p = try Peer("cli", try Paths.agentBinary(), [], env: env, dir: dir)
        let code = await p.waitExit(timeout: 10)
        #expect(code == 64, "\(p.stderr)")
        let lines = p.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(flag), "\(p.stderr)")
    }

    /// A FIFO named as the secret or config file would hang the start with no output: refused at once.
    @Test(arguments: ["--secret-file", "--config"])
    func fifoInPlaceOfAFileIsRefusedAtOnce(_ flag: String) async throws {
        let dir = Paths.tempDir("hostile-fifo")
        #expect(mkfifo(dir + "/f", 0o600) == 0)
        var args = ["--server-url", "http://127.0.0.1:1/", "--health-addr", "127.0.0.1:\(freePort())", flag, dir + "/f"]
        if flag == "--config" { args += ["--secret", "s"] }
        let p = try Peer("cli", try Paths.agentBinary(), args, dir: dir)
        let code = await p.waitExit(timeout: 10)
        p.stop()
        #expect(code == 64 && p.stderr.contains(flag) && p.stderr.contains("not a regular file"), "\(p.stderr)")
    }

    /// Idle clients (slow-loris) on the health port: at most 64 are held, each is closed after
    /// the header timeout, and /healthz is served once their turn is over; the agent's
    /// descriptors stay bounded, so its /proc reads never fail for want of one.
    @Test func idleClientsCannotExhaustTheHealthPort() async throws {
        let dir = Paths.tempDir("hostile-loris")
        let (server, port) = try await scriptedServer("keepalive", dir: dir)
        defer { server.stop() }
        let health = freePort()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret", "s", "--interval", "1",
            "--health-addr", "127.0.0.1:\(health)", "--queue-dir", dir + "/queue", "--auth-source", "none",
            "--docker-socket", "none"], dir: dir)
        defer { agent.stop() }
        try await eventuallyAsync("health up") { (try? await httpGet("http://127.0.0.1:\(health)/healthz"))?.status == 200 }
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(agent.pid)/fd").count) ?? 0 }
        let baseline = descriptors()
        var sockets = [Int32]()
        defer { sockets.forEach { close($0) } }
        for _ in 0..<100 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(health).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            #expect(rc == 0)
            sockets.append(s)
        }
        try await Task.sleep(for: .seconds(1))
        let held = descriptors() - baseline
        #expect(held <= 64 + 4, "descriptors held for idle clients: \(held)")
        // The first idle clients are cut off by the server after the header timeout (10 s).
        // Polled without blocking: a blocking recv would hold one of the test runner's threads.
        try await eventually(timeout: 30, "the first idle client closed by the server, not held") {
            var byte: UInt8 = 0
            return recv(sockets[0], &byte, 1, Int32(MSG_DONTWAIT)) == 0
        }
        try await eventuallyAsync(timeout: 40, "/healthz answers while idle clients keep arriving") {
            (try? await httpGet("http://127.0.0.1:\(health)/healthz"))?.status == 200
        }
        let payloads = server.stdout.split(separator: "\n").count
        #expect(payloads >= 5, "payloads kept flowing: \(payloads)")
    }

    /// 40 MB appended to the auth log at once (read in one go, it would cost over 100 MB and an
    /// OOM kill under the unit's MemoryMax): taken in bounded steps, every line counted, the peak
    /// memory barely moves.
    @Test func aLargeAuthBacklogIsReadInBoundedSteps() async throws {
        let (dir, server, agent, log, health) = try await authFileAgent("hostile-backlog")
        defer { server.stop(); agent.stop() }
        func peakKB() -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(agent.pid)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        let before = peakKB()
        let appended = try await appendGenerated(log, "backlog", dir: dir)
        #expect(appended > 40_000_000)
        try await eventuallyAsync(timeout: 300, "all 200,000 lines counted") {
            let text = (try? await httpGet("http://127.0.0.1:\(health)/metrics?format=prometheus").body) ?? ""
            return text.contains("monitoring_agent_auth_lines_total 200000")
        }
        let grown = peakKB() - before
        #expect(grown < 30_000, "peak RSS grew by \(grown) kB for a 40 MB backlog")
        let position = try String(contentsOfFile: dir + "/queue/auth-position", encoding: .utf8)
        #expect(position.contains(" \(appended) "), "position saved at the end: \(position)")
    }

    /// Unauthenticated: an X-Agent-Timestamp of Int64.min (or any other number) must not trap
    /// the skew arithmetic: 401, and the receiver keeps serving.
    @Test func receiverAnswersAnyTimestampWith401() async throws {
        let dir = Paths.tempDir("hostile-receiver")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret", "s", "receive", "--listen", "127.0.0.1:\(port)"], dir: dir)
        defer { receiver.stop() }
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        for ts in ["-9223372036854775808", "9223372036854775807", "99999999999999999999", "-1"] {
            let r = try await httpRequest("http://127.0.0.1:\(port)/ingest", method: "POST",
                                          headers: [("X-Agent-Timestamp", ts), ("X-Agent-Signature", "sha256=00")], body: Array("{}".utf8))
            #expect(r.status == 401, "\(ts): \(r.status)")
        }
        #expect(receiver.process.isRunning)
    }

    /// 300,000 failures from distinct addresses (three times the tracking cap) appended at once:
    /// payloads keep coming every interval while the flood is read (a table that rebuilds itself
    /// when full can starve the cycle for minutes), and a real attacker in the middle of the
    /// flood is still caught.
    @Test func anAddressFloodDoesNotStallPayloads() async throws {
        let (dir, server, agent, log, health) = try await authFileAgent("hostile-flood", ["--failed-auth-threshold", "5"])
        defer { server.stop(); agent.stop() }
        _ = try await appendGenerated(log, "flood", dir: dir)
        func requests() -> Int { server.stdout.split(separator: "\n").count }
        var longestGap = 0.0
        var last = (count: requests(), at: Date())
        let started = Date()
        while Date().timeIntervalSince(started) < 120 {
            try await Task.sleep(for: .milliseconds(200))
            let n = requests()
            if n != last.count { longestGap = max(longestGap, Date().timeIntervalSince(last.at)); last = (n, Date()) }
            let text = (try? await httpGet("http://127.0.0.1:\(health)/metrics?format=prometheus").body) ?? ""
            if text.contains("monitoring_agent_auth_lines_total 300000") { break }
        }
        let text = try await httpGet("http://127.0.0.1:\(health)/metrics?format=prometheus").body
        #expect(text.contains("monitoring_agent_auth_lines_total 300000"), "the whole flood was read")
        // Loose on purpose (a loaded 2-core machine stretches everything); a table that stalls
        // the cycle takes minutes. The precise figures are in docs/BENCHMARKS.md.
        #expect(longestGap < 20, "longest time without a payload during the flood: \(longestGap) s")
        // What the tables forgot at their caps is counted in /metrics, not silent.
        try await eventuallyAsync(timeout: 10, "evictions exported") {
            let text = (try? await httpGet("http://127.0.0.1:\(health)/metrics?format=prometheus").body) ?? ""
            let line = text.split(separator: "\n").first { $0.hasPrefix("monitoring_agent_auth_sources_evicted_total ") }
            return (line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0) > 100_000
        }
        try await eventuallyAsync(timeout: 10, "the real attacker in the flood is caught") {
            (try? await httpGet("http://127.0.0.1:\(health)/metrics?format=json").body)?.contains("BRUTE_FORCE:198.51.100.77") == true
        }
    }

    /// Container names and command lines come from workloads: CR, LF and ESC in them are
    /// escaped in text logs, so they cannot forge a line.
    @Test func textLogsEscapeControlCharacters() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = TextLogHandler(label: "t", fd: fds[1])
        handler.logLevel = .info
        let logger = Logger(label: "t") { _ in handler }
        logger.warning("exec in \("web\r\n2026-11-30T00:00:00Z critical forged: line\u{1b}[2J")",
                       metadata: ["container": "evil\nname", "command": "sh -c 'x\\y'"])
        close(fds[1])
        var out = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &out, out.count)
        let text = String(decoding: out[..<max(0, n)], as: UTF8.self)
        #expect(text.split(separator: "\n").count == 1, "\(text)")
        #expect(text.contains(#"web\r\n2026"#) && text.contains(#"\u{1b}[2J"#) && text.contains(#"container=evil\nname"#))
        #expect(text.contains(#"x\\y"#), "a backslash is doubled")
    }

    /// journald without a saved cursor starts at the agent's start time, so entries written
    /// before journalctl attached are read too.
    @Test func journaldStartsAtTheAgentsStartWithoutACursor() {
        let service = JournaldAuthService(cursorFile: "/nonexistent", feed: AuthFeed(detectors: DetectorSet([])),
                                          wallClock: { 0 }, logger: Logger(label: "t"))
        let fresh = service.arguments(after: nil, since: 1_700_000_000)
        #expect(fresh.contains("--since") && fresh.contains("@1700000000") && !fresh.contains("--lines"))
        let resumed = service.arguments(after: "s=abc", since: 1_700_000_000)
        #expect(resumed.contains("--after-cursor") && resumed.contains("s=abc") && !resumed.contains("--since"))
    }
}
