import AgentCore
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
        let r = try await run(["--server-url", "http://127.0.0.1:1/", "--secret", "s", "--health-addr", "127.0.0.1:\(port)"])
        #expect(r.code != 0 && r.err.lowercased().contains("address already in use"), "\(r.err)")
    }

    @Test func readmeConfigurationTableMatchesHelp() throws {
        let readme = try String(contentsOfFile: Paths.packageRoot + "/README.md", encoding: .utf8)
        for spec in AgentOptions.all {
            let row = "| `--\(spec.flag)` | `\(spec.env)` | \(spec.defaultValue.map { "`\($0)`" } ?? "—") |"
            #expect(readme.contains(row), "README row missing or different: \(row)")
        }
    }
}
