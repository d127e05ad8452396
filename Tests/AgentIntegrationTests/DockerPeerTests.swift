import AgentCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Docker CLI against one daemon (`-H unix://…`).
struct DockerCLI {
    let socket: String

    @discardableResult
    func run(_ args: [String]) async throws -> String {
        try await runProcess("/usr/bin/env", ["docker", "-H", "unix://" + socket] + args).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `run` for a `defer` (clean-up only).
    func runBlocking(_ args: [String]) {
        cleanUp("/usr/bin/env", ["docker", "-H", "unix://" + socket] + args)
    }

    /// The daemon scripts/test.sh started. Missing means the test fails, never skips.
    static func fromEnvironment() throws -> DockerCLI {
        let sock = try #require(ProcessInfo.processInfo.environment["MA_DOCKER_SOCK"],
                                "MA_DOCKER_SOCK unset: run the tests through scripts/test.sh, which starts dockerd")
        #expect(FileManager.default.fileExists(atPath: sock), "dockerd socket \(sock) missing")
        return DockerCLI(socket: sock)
    }
}

/// A private dockerd (scripts/dockerd.sh) that a test may stop and start.
struct PrivateDockerd {
    let dir: String
    var socket: String { dir + "/docker.sock" }
    var cli: DockerCLI { DockerCLI(socket: socket) }

    func start() async throws {
        let out = try await script("start")
        guard FileManager.default.fileExists(atPath: socket) else { throw PeerError("dockerd did not start: \(out)") }
    }

    func stop() async throws {
        _ = try await script("stop")
    }

    /// `stop` for a `defer` (clean-up only).
    func stopBlocking() {
        cleanUp("/bin/bash", [Paths.packageRoot + "/scripts/dockerd.sh", "stop", dir])
    }

    /// Runs scripts/dockerd.sh with its output in a file: dockerd inherits the script's descriptors,
    /// so reading a pipe to its end would wait for dockerd to exit.
    private func script(_ command: String) async throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Paths.packageRoot + "/scripts/dockerd.sh", command, dir]
        let log = dir + "/script-\(command).out"
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        p.standardInput = FileHandle.nullDevice
        try await runToExit(p)
        return (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    }
}

/// Payloads the receiver printed (one JSON document per line).
func receivedPayloads(_ receiver: Peer) -> [Payload] {
    receiver.stdout.split(separator: "\n").compactMap { try? PayloadCoding.decode(Array($0.utf8)) }
}

/// Real dockerd (20.10 from Debian, started by scripts/test.sh; the restart test starts its own):
/// events, logs of TTY and non-TTY containers, masking, shells, 5xx spikes, degraded mode.
@Suite(.serialized) struct DockerPeerTests {
    func startAgent(dir: String, socket: String, extra: [String] = []) async throws -> (receiver: Peer, agent: Peer, health: Int) {
        let secretFile = writeSecret(dir, "docker-test-secret")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)"], dir: dir)
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let health = freePort()
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(port)/", "--secret-file", secretFile, "--interval", "1",
            "--health-addr", "127.0.0.1:\(health)", "--queue-dir", dir + "/queue", "--auth-source", "none",
            "--docker-socket", socket, "--log-level", "debug"] + extra, dir: dir)
        return (receiver, agent, health)
    }

    func dockerState(_ health: Int) async -> String? {
        guard let r = try? await httpGet("http://127.0.0.1:\(health)/healthz"),
              let json = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return nil }
        return json["docker"] as? String
    }

    @Test func eventsLogsMaskingShellsAndHTTPErrorSpikes() async throws {
        let docker = try DockerCLI.fromEnvironment()
        let dir = Paths.tempDir("docker")
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let names = ["pre", "mux", "tty", "sh", "hc"].map { "\($0)-\(tag)" }
        defer { docker.runBlocking(["rm", "-f"] + names) }
        // Running before the agent: only the last --tail-lines lines are read on first attach.
        try await docker.run(["run", "-d", "--name", names[0], "test/busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo pre-$i; done; sleep 600"])
        try await docker.run(["run", "-d", "--name", names[3], "test/busybox", "sleep", "600"])
        try await docker.run(["run", "-d", "--name", names[4], "--health-cmd", "echo healthy", "--health-interval", "1s", "test/busybox", "sleep", "600"])
        let (receiver, agent, health) = try await startAgent(dir: dir, socket: docker.socket, extra: ["--tail-lines", "3"])
        defer { agent.stop(); receiver.stop() }
        try await eventually("agent connected to docker") { agent.stderr.contains("docker connected") }

        // Started after the agent: a non-TTY container with a secret, access-log lines, then exit.
        let access = #"echo '10.0.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl"'"#
        let script = "echo hello-from-mux; echo DB_PASSWORD=hunter2-\(tag); echo to-stderr >&2; "
            + "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do \(access); done; sleep 2"
        try await docker.run(["run", "-d", "--name", names[1], "test/busybox", "sh", "-c", script])
        try await docker.run(["run", "-d", "-t", "--name", names[2], "test/busybox", "sh", "-c", "echo hello-from-tty; sleep 600"])
        // A real TTY for `docker exec -it` (script gives it one), and a non-interactive shell.
        _ = try await runProcess("/usr/bin/script", ["-qec", "docker -H unix://\(docker.socket) exec -it \(names[3]) sh -c 'exit 0'", "/dev/null"])
        try await docker.run(["exec", names[3], "sh", "-c", "true"])

        try await eventually(timeout: 30, "logs, events and alerts at the receiver") {
            let p = receivedPayloads(receiver)
            let logs = p.flatMap(\.logs)
            return logs.contains { $0.message == "hello-from-tty" } && logs.contains { $0.container == names[1] && $0.message == "to-stderr" }
                && p.flatMap(\.dockerEvents).contains { $0.container == names[1] && $0.action == "die" }
                && p.contains { $0.localAlerts.contains("HTTP_5XX_SPIKE") } && p.contains { $0.localAlerts.contains("SHELL_IN_CONTAINER") }
        }
        try await Task.sleep(for: .seconds(2)) // a few healthcheck runs happen meanwhile
        let payloads = receivedPayloads(receiver)
        let logs = payloads.flatMap(\.logs)
        let events = payloads.flatMap(\.dockerEvents)

        // Tail on first attach for the container that was already running.
        #expect(logs.filter { $0.container == names[0] }.map(\.message) == ["pre-6", "pre-7", "pre-8"])
        // A container started later is read from its start, clean of frame headers and \r.
        // (stdout and stderr are separate pipes: their relative order is not kept by Docker)
        let mux = logs.filter { $0.container == names[1] }.map(\.message)
        #expect(mux.first { $0 != "to-stderr" } == "hello-from-mux" && mux.count == 15, "\(mux)")
        #expect(mux.filter { $0.hasPrefix("10.0.0.1 - - [28/Nov/2026:10:00:00 +0000] \"GET /api HTTP/1.1\" 502") }.count == 12)
        #expect(mux.contains("DB_PASSWORD=***"))
        #expect(!receiver.stdout.contains("hunter2"), "the secret never leaves the host")
        for l in logs {
            #expect(!l.message.unicodeScalars.contains { $0.value < 0x20 }, "no control bytes: \(l.message.debugDescription)")
        }
        #expect(logs.filter { $0.container == names[2] }.map(\.message) == ["hello-from-tty"])
        // Events of the later container, in order, with image.
        let muxEvents = events.filter { $0.container == names[1] }.map(\.action)
        #expect(muxEvents.starts(with: ["create", "start"]) && muxEvents.contains("die"), "\(muxEvents)")
        #expect(events.first { $0.container == names[1] }?.image == "test/busybox")
        // Shells: the -it exec alerts with its detail; the non-interactive one and the healthchecks do not.
        let shell = payloads.flatMap(\.alertsDetail).filter { $0.rule == .shellInContainer }
        #expect(shell.count == 1 && shell.first?.container == names[3] && shell.first?.command == "sh -c exit 0", "\(shell)")
        #expect(!events.contains { $0.container == names[4] && $0.action.hasPrefix("exec_") }, "healthcheck execs are not events")
        #expect(events.contains { $0.container == names[3] && $0.action == "exec_start" }, "a user's exec is")
        // 5xx spike for the access-log container only.
        let spike = payloads.flatMap(\.alertsDetail).filter { $0.rule == .http5xxSpike }
        #expect(spike.map(\.container) == [names[1]] && spike.first?.errors == 12)
        let alerted = try #require(payloads.first { $0.localAlerts.contains("HTTP_5XX_SPIKE") })
        #expect(alerted.score >= 0.25)
        #expect(await dockerState(health) == "connected")
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0, "clean exit with log streams open")
    }

    /// podman's Docker-compatible service: its own event names (`init`, `exec`, `exec_died`), no
    /// exec id in events (the container's ExecIDs are read), whole-second log times.
    @Test func podmanServiceWorksToo() async throws {
        let sock = try #require(ProcessInfo.processInfo.environment["MA_PODMAN_SOCK"],
                                "MA_PODMAN_SOCK unset: run the tests through scripts/test.sh, which starts podman")
        let podman = DockerCLI(socket: sock)
        let dir = Paths.tempDir("podman")
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let names = ["pm-\(tag)", "pmtty-\(tag)"]
        defer { podman.runBlocking(["rm", "-f"] + names) }
        let (receiver, agent, health) = try await startAgent(dir: dir, socket: sock)
        defer { agent.stop(); receiver.stop() }
        try await eventually("agent connected to podman") { agent.stderr.contains("docker connected") }
        try await podman.run(["run", "-d", "--name", names[0], "test/busybox", "sh", "-c",
                        "echo hello-podman; echo api_key=k-\(tag); echo err-podman >&2; sleep 600"])
        try await podman.run(["run", "-d", "-t", "--name", names[1], "test/busybox", "sh", "-c", "echo tty-podman; sleep 600"])
        _ = try await runProcess("/usr/bin/script", ["-qec", "docker -H unix://\(sock) exec -it \(names[0]) sh -c 'exit 0'", "/dev/null"])
        try await eventually(timeout: 30, "podman logs, events and the shell alert at the receiver") {
            let p = receivedPayloads(receiver)
            let logs = p.flatMap(\.logs)
            return logs.contains { $0.message == "tty-podman" } && logs.contains { $0.message == "err-podman" }
                && p.flatMap(\.alertsDetail).contains { $0.rule == .shellInContainer && $0.container == names[0] }
        }
        let payloads = receivedPayloads(receiver)
        let logs = payloads.flatMap(\.logs)
        #expect(Set(logs.filter { $0.container == names[0] }.map(\.message)) == ["hello-podman", "api_key=***", "err-podman"])
        #expect(logs.filter { $0.container == names[1] }.map(\.message) == ["tty-podman"])
        #expect(!receiver.stdout.contains("k-\(tag)"))
        let actions = payloads.flatMap(\.dockerEvents).filter { $0.container == names[0] }.map(\.action)
        #expect(actions.starts(with: ["create", "init", "start"]) && actions.contains("exec"), "\(actions)")
        #expect(await dockerState(health) == "connected")
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
    }

    @Test func degradedWithoutDockerThenResumesWithoutLossOrDuplicates() async throws {
        let daemon = PrivateDockerd(dir: Paths.tempDir("dockerd"))
        defer {
            daemon.cli.runBlocking(["rm", "-f", "counter", "after"])
            daemon.stopBlocking()
        }
        // No daemon yet: degraded, one warning, payloads keep flowing.
        let dir = Paths.tempDir("docker-restart")
        let (receiver, agent, health) = try await startAgent(dir: dir, socket: daemon.socket)
        defer { agent.stop(); receiver.stop() }
        try await eventually("payloads while docker is missing") { receivedPayloads(receiver).count >= 2 }
        #expect(await dockerState(health) == "unavailable")
        #expect(agent.stderr.components(separatedBy: "docker unavailable; metrics").count == 2, "one warning, however many retries")

        try await daemon.start()
        try await eventually(timeout: 40, "docker connected") { agent.stderr.contains("docker connected") }
        try await daemon.cli.run(["run", "-d", "--name", "counter", "test/busybox", "sh", "-c",
                            "i=0; while true; do echo seq-$i; i=$((i+1)); sleep 0.1; done"])
        func seqs() -> [Int] {
            receivedPayloads(receiver).flatMap(\.logs).filter { $0.container == "counter" }
                .compactMap { Int($0.message.dropFirst(4)) }
        }
        try await eventually(timeout: 20, "counter lines") { (seqs().max() ?? 0) >= 10 }

        // The daemon goes away (containers live on: --live-restore) and comes back.
        try await daemon.stop()
        try await eventuallyAsync(timeout: 20, "docker unavailable") { await dockerState(health) == "unavailable" }
        let before = receivedPayloads(receiver).count
        try await Task.sleep(for: .seconds(2))
        #expect(receivedPayloads(receiver).count > before, "metrics keep flowing while docker is down")
        let downAt = seqs().max() ?? 0
        try await daemon.start()
        try await eventuallyAsync(timeout: 40, "docker connected again") { await dockerState(health) == "connected" }
        try await daemon.cli.run(["run", "-d", "--name", "after", "test/busybox", "sh", "-c", "echo after-restart; sleep 600"])
        try await eventually(timeout: 30, "events and logs resume") {
            let p = receivedPayloads(receiver)
            return p.flatMap(\.dockerEvents).contains { $0.container == "after" && $0.action == "start" }
                && p.flatMap(\.logs).contains { $0.message == "after-restart" } && (seqs().max() ?? 0) >= downAt + 40
        }
        let s = seqs()
        #expect(Set(s).count == s.count, "no line twice: \(s.count - Set(s).count) duplicates")
        #expect(s == Array(0...(s.max() ?? 0)), "no line lost, in order")
        #expect(agent.process.isRunning)
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
    }
}
