import AgentApp
import AgentCore
import Foundation
import TestSupport
import Testing

@Suite struct ConfigFileTests {
    @Test func valuesAndTheirLines() throws {
        let yaml = "# comment\nserver_url: http://127.0.0.1:9/\ninterval: 2.5\nsimulate_attack: true\nhealth_addr: \"127.0.0.1:9100\"\n"
        let v = try ConfigFile.parse(yaml, path: "a.yaml")
        #expect(v["server-url"] == ConfigFileValue(text: "http://127.0.0.1:9/", origin: "a.yaml:2"))
        #expect(v["interval"]?.text == "2.5" && v["simulate-attack"]?.text == "true" && v["health-addr"]?.text == "127.0.0.1:9100")
        #expect(try ConfigFile.parse("", path: "empty.yaml").isEmpty)
    }

    static let bad: [(String, String)] = [
        ("interval: 5\nserver_urll: http://x/\n", #"--config: b.yaml:2: unknown key "server_urll""#),
        ("server-url: http://x/\n", #"--config: b.yaml:1: unknown key "server-url" (use snake_case)"#),
        ("interval:\n  - 1\n  - 2\n", "--config: b.yaml:1: interval must be a single value"),
        ("- a\n- b\n", "--config: b.yaml: must be a mapping of settings (key: value)"),
        ("config: other.yaml\n", #"--config: b.yaml:1: unknown key "config""#),
        ("interval: [\n", "--config: b.yaml:1: not valid YAML: unclosed ["),
        ("interval: [1, 2]\n", "--config: b.yaml:1: interval must be a single value"),
        ("env: prod\nenv: dev\n", #"--config: b.yaml:2: not valid YAML: "env" appears twice"#),
        ("env: &a prod\n", "--config: b.yaml:1: not valid YAML: anchors, aliases and tags are not supported"),
        ("env: \"prod\n", #"--config: b.yaml:1: not valid YAML: unclosed ""#),
        ("env: prod\n  more\n", "--config: b.yaml:2: not valid YAML: unexpected indentation"),
        ("env: |\n  prod\n", "--config: b.yaml:1: env must be a single value"),
        ("---\nenv: a\n---\nenv: b\n", "--config: b.yaml:3: not valid YAML: only one document is allowed"),
    ]

    @Test(arguments: bad)
    func errorsNameFileLineAndKey(_ yaml: String, _ message: String) {
        do {
            _ = try ConfigFile.parse(yaml, path: "b.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }

    @Test func precedenceIsFlagThenEnvironmentThenFileThenDefault() throws {
        var r = ConfigResolver(flags: ["interval": "3"], environment: ["SECRET": "s", "ENV": "stage"], hostname: "h", readFile: { _ in [] })
        r.file = try ConfigFile.parse("server_url: http://f/\ninterval: 9\nenv: dev\nowner_team: from-file\n", path: "c.yaml")
        let c = try r.resolve()
        #expect(c.interval == 3, "flag wins")
        #expect(c.env == .stage, "environment wins over the file")
        #expect(c.ownerTeam == "from-file" && c.serverURL == "http://f/", "file wins over defaults")
        #expect(c.tailLines == 100, "default")
        r.file = try ConfigFile.parse("server_url: http://f/\ncpu_spike_pct: lots\n", path: "c.yaml")
        #expect(throws: ConfigError.self) { try r.resolve() }
        do { _ = try r.resolve() } catch {
            #expect("\(error)" == #"--cpu-spike-pct: must be a number of percent, got "lots" (from c.yaml:2)"#)
        }
    }

    @Test func exampleConfigIsValid() throws {
        let v = try ConfigFile.load(path: Paths.packageRoot + "/packaging/config.example.yaml")
        var r = ConfigResolver(flags: [:], environment: [:], hostname: "h", readFile: { _ in Array("secret".utf8) })
        r.file = v
        let c = try r.resolve()
        #expect(c.serverURL == "https://ingest.example.com/ingest" && c.logFormat == .json && c.ownerTeam == "platform")
    }

    @Test func binaryReadsTheFileAndRejectsUnknownKeys() async throws {
        let dir = Paths.tempDir("config")
        let secretFile = writeSecret(dir, "config-test-secret")
        let port = freePort()
        let receiver = try Peer("receiver", try Paths.agentBinary(), ["--secret-file", secretFile, "receive", "--listen", "127.0.0.1:\(port)"], dir: dir)
        defer { receiver.stop() }
        try await eventually("receiver listening") { receiver.stderr.contains("receiver listening") }
        let yaml = """
        server_url: http://127.0.0.1:\(port)/
        secret_file: \(secretFile)
        interval: 0.5
        owner_team: team-from-yaml
        health_addr: 127.0.0.1:\(freePort())
        queue_dir: \(dir)/queue
        auth_source: none
        docker_socket: none
        """
        FileManager.default.createFile(atPath: dir + "/agent.yaml", contents: Data(yaml.utf8))
        let agent = try Peer("agent", try Paths.agentBinary(), ["--config", dir + "/agent.yaml"], dir: dir)
        defer { agent.stop() }
        try await eventually("a payload from the configured agent") {
            receivedPayloads(receiver).contains { $0.ownerTeam == "team-from-yaml" }
        }
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)

        FileManager.default.createFile(atPath: dir + "/bad.yaml", contents: Data((yaml + "\nintervall: 5\n").utf8))
        let bad = try Peer("bad", try Paths.agentBinary(), [], env: ["AGENT_CONFIG": dir + "/bad.yaml"], dir: dir)
        #expect(await bad.waitExit(timeout: 10) == 64)
        #expect(bad.stderr.contains(#"--config: \#(dir)/bad.yaml:9: unknown key "intervall""#), "\(bad.stderr)")
    }
}
