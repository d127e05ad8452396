import AgentCore
@testable import AgentApp
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Command-line behaviour of the built binary: exit codes, one-line errors, help, version.
@Suite struct CLITests {
    func run(_ args: [String], env: [String: String] = [:]) async throws -> (code: Int32, out: String, err: String) {
        let dir = Paths.tempDir("cli")
        let p = try Peer("cli", try Paths.agentBinary(), args, env: env, dir: dir)
        guard let code = await p.waitExit(timeout: 10) else { p.stop(); throw PeerError("did not exit: \(args)") }
        return (code, p.stdout, p.stderr)
    }

    static let invalid: [([String], String)] = [
        (["--interval", "abc"], "--interval"), (["--interval", "0"], "--interval"), (["--interval=-1"], "--interval"), (["--interval"], "--interval"),
        (["--cpu-spike-pct", "150"], "--cpu-spike-pct"), (["--server-url", "ftp://x"], "--server-url"),
        (["--env", "qa"], "--env"), (["--secret-file", "/nonexistent/secret"], "--secret-file"),
    ]

    @Test(arguments: invalid)
    func invalidValueExits64WithOneLineNamingTheFlag(_ extra: [String], _ flag: String) async throws {
        var args = ["--server-url", "http://127.0.0.1:1/", "--health-addr", "127.0.0.1:\(freePort())"]
        if !extra.contains("--secret-file") { args += ["--secret", "Xyzzy-Secret-42"] }
        let r = try await run(args + extra)
        #expect(r.code == 64)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(flag), "\(r.err)")
        #expect(!r.err.contains("Xyzzy-Secret-42"))
    }

    /// `receive` takes the shared flags from the same table as the agent: --log-format json
    /// gives JSON log lines, and a bad --log-level or --log-format exits 64 naming it.
    @Test func receiveHonoursTheSharedLoggingFlags() async throws {
        let dir = Paths.tempDir("receive-json")
        let p = try Peer("receive", try Paths.agentBinary(), ["--secret", "s", "--log-format", "json", "receive",
                                                              "--listen", "127.0.0.1:\(freePort())"], dir: dir)
        defer { p.stop() }
        try await eventually("receiver listening") { p.stderr.contains("receiver listening") }
        let line = try #require(p.stderr.split(separator: "\n").first { $0.contains("receiver listening") })
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(json?["message"] as? String == "receiver listening", "\(line)")
        for bad in [["--log-level", "loud"], ["--log-format", "xml"]] {
            let r = try await run(["--secret", "s"] + bad + ["receive", "--listen", "127.0.0.1:\(freePort())"])
            #expect(r.code == 64 && r.err.contains(bad[0]) && r.err.split(separator: "\n").count == 1, "\(r.err)")
        }
    }

    @Test func missingSecretAndURL() async throws {
        let r = try await run(["--server-url", "http://127.0.0.1:1/"])
        #expect(r.code == 64 && r.err.contains("--secret"))
        let r2 = try await run(["--secret", "s"])
        #expect(r2.code == 64 && r2.err.contains("--server-url"))
        let r3 = try await run([], env: ["SERVER_URL": "http://127.0.0.1:1/", "SECRET": "s", "INTERVAL": "nope"])
        #expect(r3.code == 64 && r3.err.contains("--interval") && r3.err.contains("INTERVAL"))
    }

    @Test func unknownFlagExitsNonZero() async throws {
        let r = try await run(["--no-such-flag"])
        #expect(r.code == 64 && r.err.contains("--no-such-flag"))
    }

    @Test func helpListsEveryFlagWithVariableAndDefault() async throws {
        let r = try await run(["--help"])
        #expect(r.code == 0)
        let help = r.out.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        for spec in AgentOptions.all {
            #expect(help.contains("--\(spec.flag)"), "\(spec.flag) missing from --help")
            #expect(help.contains("env: \(spec.env)"), "\(spec.env) missing from --help")
            if let d = spec.defaultValue { #expect(help.contains("default: \(d)"), "default of \(spec.flag)") }
        }
    }

    /// The option table and the command line's declarations match one to one, every flag
    /// given reaches the resolver, and every option but --config is a key of the settings file.
    @Test func optionTableDeclarationsAndFileKeysAgree() throws {
        func declared(_ command: Any) -> Set<String> {
            Set(Mirror(reflecting: command).children.compactMap { child in
                let type = String(describing: Swift.type(of: child.value))
                return type.hasPrefix("Option<") || type.hasPrefix("Flag<") ? child.label : nil
            })
        }
        #expect(declared(AgentCommand()) == Set(AgentOptions.all.map { "_" + $0.propertyName }))
        let receiverOwn = ReceiverOptions.all.filter { r in !AgentOptions.all.contains { $0.flag == r.flag } }
        #expect(declared(ReceiveCommand()).subtracting(["_shared"]) == Set(receiverOwn.map { "_" + $0.propertyName }))

        var args: [String] = []
        for spec in AgentOptions.all { args += spec.valueName == nil ? ["--" + spec.flag] : ["--" + spec.flag, "v-" + spec.flag] }
        let parsed = try #require(try AgentCommand.parseAsRoot(args) as? AgentCommand)
        let given = parsed.givenFlags
        for spec in AgentOptions.all {
            #expect(given[spec.flag] == (spec.valueName == nil ? "true" : "v-" + spec.flag), "\(spec.flag)")
        }

        for spec in AgentOptions.all where spec.flag != AgentOptions.config.flag {
            let values = try ConfigFile.parse("\(spec.yamlKey): x\n", path: "agent.yaml")
            #expect(values[spec.flag]?.text == "x", "\(spec.yamlKey)")
        }
        #expect(throws: ConfigError.self) { try ConfigFile.parse("config: other.yaml\n", path: "agent.yaml") }
    }

    @Test func versionPrints() async throws {
        let r = try await run(["--version"])
        #expect(r.code == 0 && r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func busyHealthPortExitsWithAClearError() async throws {
        let blocker = try Peer("blocker", "/usr/bin/env", ["python3", "-c",
            "import socket,time;s=socket.socket();s.bind(('127.0.0.1',0));s.listen();print(s.getsockname()[1],flush=True);time.sleep(30)"],
            dir: Paths.tempDir("busy"))
        try await eventually("port printed") { !blocker.stdout.isEmpty }
        let port = blocker.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Five starts: the failing health server cancels the other services at once, and the
        // cycle thread must outlive them (stopped too early, a service's last job never ran and
        // the agent hung in about one start of six).
        for _ in 0..<5 {
            let r = try await run(["--server-url", "http://127.0.0.1:1/", "--secret", "s", "--health-addr", "127.0.0.1:\(port)",
                                   "--queue-dir", Paths.tempDir("busy-queue")])
            #expect(r.code != 0 && r.err.lowercased().contains("address already in use"), "\(r.err)")
            #expect(!r.err.contains("already shut down"), "\(r.err)")
        }
    }

    /// `--log-format json`: every stderr line is one JSON object, the start-up line summarises
    /// what is active, and the secret appears nowhere.
    @Test func jsonLogsAreOneObjectPerLineWithAStartupSummary() async throws {
        let dir = Paths.tempDir("jsonlog")
        let secret = "Json-Log-Secret-77"
        let p = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://user:pw@127.0.0.1:1/ingest", "--secret", secret, "--interval", "0.3", "--log-format", "json",
            "--health-addr", "127.0.0.1:\(freePort())", "--queue-dir", dir + "/queue", "--auth-source", "none",
            "--docker-socket", dir + "/no-docker.sock", "--log-level", "debug"], dir: dir)
        try await eventually("a send failure logged") { p.stderr.contains("send failed") }
        p.signal(SIGTERM)
        #expect(await p.waitExit(timeout: 20) == 0)
        let lines = p.stderr.split(separator: "\n")
        #expect(lines.count > 5)
        var startup: [String: Any]?
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(obj?["level"] is String && obj?["message"] is String && obj?["ts"] is String, "\(line)")
            if obj?["message"] as? String == "monitoring-agent started" { startup = obj }
        }
        let meta = try #require(startup?["metadata"] as? [String: String])
        #expect(meta["auth_source"] == "off")
        #expect(meta["docker"] == "unavailable (socket missing) \(dir)/no-docker.sock")
        #expect(meta["server_url"] == "http://***@127.0.0.1:1/ingest", "no credentials in the start-up line")
        #expect(meta["metrics"] != nil)
        #expect(!p.stderr.contains(secret) && !p.stderr.contains("user:pw"))
    }

    @Test func readmeConfigurationTableMatchesHelp() throws {
        let readme = try String(contentsOfFile: Paths.packageRoot + "/README.md", encoding: .utf8)
        for spec in AgentOptions.all {
            let row = "| `--\(spec.flag)` | `\(spec.env)` | \(spec.defaultValue.map { "`\($0)`" } ?? "—") |"
            #expect(readme.contains(row), "README row missing or different: \(row)")
        }
    }
}
