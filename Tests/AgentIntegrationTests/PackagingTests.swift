import AgentCore
import Foundation
import TestSupport
import Testing

/// The install target, the systemd unit and the example settings.
@Suite struct PackagingTests {
    @Test func installStagesBinaryUnitAndSettingsAndTheUnitVerifies() throws {
        let stage = Paths.tempDir("stage")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Paths.packageRoot + "/scripts/install.sh", "--binary", try Paths.agentBinary()]
        p.environment = ProcessInfo.processInfo.environment.merging(["DESTDIR": stage]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let bin = stage + "/usr/local/bin/monitoring-agent"
        let unit = stage + "/etc/systemd/system/monitoring-agent.service"
        let env = stage + "/etc/monitoring-agent/agent.env"
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        #expect(try runProcess(bin, ["--version"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let mode = try FileManager.default.attributesOfItem(atPath: env)[.posixPermissions] as? Int
        #expect(mode == 0o640, "settings are not world-readable")

        // systemd-analyze verify: exit 0 and not one warning (it exits 0 on unknown keys, so the
        // output must be empty). ExecStart must exist: point it at the staged binary.
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/monitoring-agent",
                          "LoadCredential=secret:", "--secret-file %d/secret", "Restart=on-failure", "SupplementaryGroups=adm"] {
            #expect(text.contains(hardening), "unit lacks \(hardening)")
        }
        let check = stage + "/check.service"
        try text.replacingOccurrences(of: "/usr/local/bin/monitoring-agent", with: bin).write(toFile: check, atomically: true, encoding: .utf8)
        let out = try runProcess("/usr/bin/systemd-analyze", ["verify", check])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify: \(out)")
    }

    @Test func exampleSettingsNameEveryVariable() throws {
        let text = try String(contentsOfFile: Paths.packageRoot + "/packaging/agent.env.example", encoding: .utf8)
        for spec in AgentOptions.all where spec.env != "SECRET" && spec.env != "SECRET_FILE" {
            #expect(text.contains("\n\(spec.env)=") || text.contains("\n#\(spec.env)="), "agent.env.example lacks \(spec.env)")
        }
        #expect(!text.contains("\nSECRET="), "the secret never goes in the settings file")
    }

    /// The example settings are valid: the agent resolves them (as systemd would pass them).
    @Test func exampleSettingsResolve() throws {
        let text = try String(contentsOfFile: Paths.packageRoot + "/packaging/agent.env.example", encoding: .utf8)
        var env: [String: String] = ["SECRET": "s"]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { env[String(kv[0])] = String(kv[1]) }
        }
        let c = try ConfigResolver(flags: [:], environment: env, hostname: "h", readFile: { _ in "" }).resolve()
        #expect(c.serverURL == "https://ingest.example.com/ingest" && c.ownerTeam == "platform")
    }
}
