import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The agent against a fake Docker Engine that misbehaves (Tests/Support/fake_dockerd.py): a
/// listing too large to hold, more containers than it may follow, a body that never finishes.
@Suite struct HostileDockerTests {
    struct Setup {
        let dir: String
        let docker: Peer
        let server: Peer
        let serverPort: Int
        let health: Int
        let socket: String
    }

    func start(_ name: String, _ dockerArgs: [String]) async throws -> Setup {
        let dir = Paths.tempDir("hostile-docker-\(name)")
        let socket = dir + "/docker.sock"
        let docker = try Peer("fake-dockerd", "/usr/bin/env", ["python3", Paths.support + "/fake_dockerd.py", socket] + dockerArgs, dir: dir)
        try await docker.waitReady("fake dockerd ready") { $0.stdout.hasPrefix("ready") }
        let server = try Peer("http", "/usr/bin/env", ["python3", Paths.support + "/scripted_http_server.py", "keepalive"], dir: dir)
        let port = try await server.waitReadyPort("server ready")
        return Setup(dir: dir, docker: docker, server: server, serverPort: port, health: freePort(), socket: socket)
    }

    func agent(_ s: Setup, _ extra: [String] = []) throws -> Peer {
        try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(s.serverPort)/", "--secret", "s", "--interval", "1",
            "--health-addr", "127.0.0.1:\(s.health)", "--queue-dir", s.dir + "/queue", "--auth-source", "none",
            "--docker-socket", s.socket] + extra, dir: s.dir)
    }

    func metric(_ s: Setup, _ name: String) async throws -> Double? {
        let text = try await httpGet("http://127.0.0.1:\(s.health)/metrics?format=prometheus").body
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// 20,000 containers in a 12 MiB listing (beyond any whole-body limit): the listing is
    /// streamed, the first --max-containers are followed, the rest counted; descriptors stay
    /// bounded and Docker stays connected.
    @Test func hugeListingIsStreamedAndFollowersAreCapped() async throws {
        let s = try await start("many", ["many", "20000", "600"])
        defer { s.docker.stop(); s.server.stop() }
        let a = try agent(s, ["--max-containers", "40"])
        defer { a.stop() }
        try await eventuallyAsync(timeout: 180, "40 containers followed, the rest counted") {
            (try? await metric(s, "monitoring_agent_docker_containers_unfollowed_total")) == 19_960
        }
        let health = try await httpGet("http://127.0.0.1:\(s.health)/healthz").body
        #expect(health.contains(#""docker":"connected""#), "\(health)")
        try await Task.sleep(for: .seconds(2))
        let follows = s.docker.stdout.split(separator: "\n").filter { $0.contains("/logs?") }.count
        #expect(follows == 40, "log streams opened: \(follows)")
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(a.pid)/fd").count) ?? 0
        #expect(fds < 40 + 40, "descriptors: \(fds)")
        try await eventually(timeout: 20, "container lines delivered") { s.server.stdout.contains("body_bytes") }
        a.signal(SIGTERM)
        #expect(await a.waitExit(timeout: 20) == 0)
    }

    /// A listing whose body trickles forever: cut off by the body timeout, Docker reported
    /// unavailable (not "connected"), and reconnections back off instead of coming every second.
    @Test func aBodyThatNeverEndsTimesOutAndBacksOff() async throws {
        let s = try await start("slow", ["slow-list"])
        defer { s.docker.stop(); s.server.stop() }
        let a = try agent(s)
        defer { a.stop() }
        try await eventuallyAsync(timeout: 60, "docker reported unavailable after the body timeout") {
            (try? await httpGet("http://127.0.0.1:\(s.health)/healthz").body)?.contains(#""docker":"unavailable""#) == true
        }
        #expect(a.stderr.contains("not received within"), "\(a.stderr.suffix(600))")
        // Over the next 20 s: at most a few more attempts (backoff 2 s, 4 s, 8 s, ... each after a
        // 30 s body timeout), never one a second.
        let before = s.docker.stdout.split(separator: "\n").filter { $0.hasSuffix("/_ping") }.count
        try await Task.sleep(for: .seconds(20))
        let after = s.docker.stdout.split(separator: "\n").filter { $0.hasSuffix("/_ping") }.count
        #expect(after - before <= 2, "pings in 20 s: \(after - before)")
        #expect(a.process.isRunning)
    }

    /// A container printing control bytes (escaped six times larger in JSON): payloads stay
    /// within --max-payload-bytes with their metrics, the cut lines are counted, nothing is
    /// refused by the server for size.
    @Test func controlByteFloodStaysWithinThePayloadBudget() async throws {
        let s = try await start("noisy", ["noisy", "500"])
        defer { s.docker.stop(); s.server.stop() }
        let a = try agent(s, ["--max-payload-bytes", "262144"])
        defer { a.stop() }
        try await eventuallyAsync(timeout: 60, "log lines cut and counted") {
            ((try? await metric(s, "monitoring_agent_payload_trimmed_log_lines_total")) ?? 0) > 0
        }
        try await eventually(timeout: 20, "payloads received") { s.server.stdout.contains("body_bytes") }
        struct Seen: Decodable { let body_bytes: Int }
        let sizes = s.server.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Seen.self, from: Data($0.utf8)).body_bytes }
        #expect(!sizes.isEmpty && sizes.allSatisfy { $0 <= 262_144 }, "\(sizes)")
        #expect(sizes.contains { $0 > 100_000 }, "the log lines that fit were sent: \(sizes)")
        #expect(a.stderr.contains("trimmed"))
    }

    /// Healthcheck probes are not events, whichever part of a probe the agent sees: the end of
    /// one that started before the event stream opened (an exec id never seen, gone from Docker)
    /// is left out like a whole probe; a user's exec in the same container is kept to its end.
    @Test func healthcheckProbesAreLeftOutEvenWhenSeenHalfway() async throws {
        let s = try await start("healthcheck", ["healthcheck"])
        defer { s.docker.stop(); s.server.stop() }
        let secretFile = writeSecret(s.dir, "hc-secret")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)"], dir: s.dir)
        defer { receiver.stop() }
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let a = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", secretFile, "--interval", "1",
            "--health-addr", "127.0.0.1:\(s.health)", "--queue-dir", s.dir + "/queue", "--auth-source", "none",
            "--docker-socket", s.socket], dir: s.dir)
        defer { a.stop() }
        try await eventually(timeout: 30, "the user's exec_die at the receiver") {
            receivedPayloads(receiver).flatMap(\.dockerEvents).contains { $0.action == "exec_die" && $0.container == "hc" }
        }
        try await Task.sleep(for: .seconds(2))
        let actions = receivedPayloads(receiver).flatMap(\.dockerEvents).filter { $0.container == "hc" }.map(\.action)
        #expect(actions == ["exec_create", "exec_start", "exec_die"], "only the user's exec: \(actions)")
        #expect(s.docker.stdout.contains("/exec/" + String(repeating: "a", count: 64) + "/json"), "the unknown exec was looked up")
    }
}
