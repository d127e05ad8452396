import AgentCore
import Foundation
import TestSupport
import Testing

/// The install target, the systemd unit and the example settings.
@Suite struct PackagingTests {
    /// The packaged alerting rules are valid and pass their own cases (packaging/prometheus/
    /// alerts.test.yml: each rule fires on its series, not before its `for`, not on a healthy host).
    @Test func alertingRulesPassPromtool() async throws {
        let promtool = "/usr/bin/promtool"
        #expect(FileManager.default.isExecutableFile(atPath: promtool), "promtool missing: run through scripts/test.sh")
        let dir = Paths.packageRoot + "/packaging/prometheus"
        let check = try await runTool(promtool, ["check", "rules", dir + "/alerts.yml"])
        #expect(check.status == 0 && check.output.contains("SUCCESS: 14 rules found"), "\(check.output)")
        let cases = try await runTool(promtool, ["test", "rules", dir + "/alerts.test.yml"])
        #expect(cases.status == 0 && cases.output.contains("SUCCESS"), "\(cases.output)")
    }

    /// Runs scripts/install.sh into a fresh DESTDIR; returns the directory.
    func stage(_ args: [String]) async throws -> String {
        let stage = Paths.tempDir("stage")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Paths.packageRoot + "/scripts/install.sh"] + args
        p.environment = ProcessInfo.processInfo.environment.merging(["DESTDIR": stage]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try await runToExit(p)
        #expect(p.terminationStatus == 0)
        return stage
    }

    /// systemd-analyze verify on a unit whose ExecStart is pointed at the staged binary: exit 0 and
    /// not one warning (it exits 0 on unknown keys, so the output must be empty).
    func verify(unit text: String, binary: String, installedAs path: String, in stage: String) async throws {
        let check = stage + "/check.service"
        try text.replacingOccurrences(of: path, with: binary).write(toFile: check, atomically: true, encoding: .utf8)
        let out = try await runProcess("/usr/bin/systemd-analyze", ["verify", check])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify: \(out)")
    }

    @Test func installStagesTheServerWithAUnitThatReloads() async throws {
        let stage = try await stage(["--server", "--binary", try Paths.serverBinary()])
        let bin = stage + "/usr/local/bin/monitoring-server"
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        let env = stage + "/etc/monitoring-server/server.env"
        #expect(try FileManager.default.attributesOfItem(atPath: env)[.posixPermissions] as? Int == 0o640)
        let text = try String(contentsOfFile: stage + "/etc/systemd/system/monitoring-server.service", encoding: .utf8)
        for line in ["ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict", "ReadWritePaths=/var/lib/monitoring-server",
                     "SERVER_DATA=/var/lib/monitoring-server", "NoNewPrivileges=yes", "User=monitoring-server"] {
            #expect(text.contains(line), "unit lacks \(line)")
        }
        try await verify(unit: text, binary: bin, installedAs: "/usr/local/bin/monitoring-server", in: stage)
        let settings = try String(contentsOfFile: env, encoding: .utf8)
        for spec in ServerOptions.all where spec.env != "SECRET" {
            #expect(settings.contains("\n\(spec.env)=") || settings.contains("\n#\(spec.env)="), "server.env.example lacks \(spec.env)")
        }
        #expect(!settings.contains("\nSECRET="), "the secret never goes in the settings file")
    }

    @Test func installStagesBinaryUnitAndSettingsAndTheUnitVerifies() async throws {
        let stage = try await stage(["--binary", try Paths.agentBinary()])
        let bin = stage + "/usr/local/bin/monitoring-agent"
        let unit = stage + "/etc/systemd/system/monitoring-agent.service"
        let env = stage + "/etc/monitoring-agent/agent.env"
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        #expect(try await runProcess(bin, ["--version"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let mode = try FileManager.default.attributesOfItem(atPath: env)[.posixPermissions] as? Int
        #expect(mode == 0o640, "settings are not world-readable")

        let text = try String(contentsOfFile: unit, encoding: .utf8)
        for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/monitoring-agent",
                          "LoadCredential=secret:", "--secret-file %d/secret", "Restart=on-failure", "SupplementaryGroups=adm"] {
            #expect(text.contains(hardening), "unit lacks \(hardening)")
        }
        try await verify(unit: text, binary: bin, installedAs: "/usr/local/bin/monitoring-agent", in: stage)
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
        let c = try ConfigResolver(flags: [:], environment: env, hostname: "h", readFile: { _ in [] }).resolve()
        #expect(c.serverURL == "https://ingest.example.com/ingest" && c.ownerTeam == "platform")
    }

    /// scripts/hot-text.py, which turns callgrind profiles into the release link order: executed
    /// addresses land in their input sections (also those already in `.text.hot`), named
    /// sections become symbols hottest first, unnamed ones linker-script lines, sections only the
    /// second profile ran come after the first's, and sections nothing ran are left out.
    @Test func hotTextOrdersExecutedSectionsFromALinkMap() async throws {
        let dir = Paths.tempDir("hot-text")
        func input(_ vma: Int, _ size: Int, _ name: String) -> String {
            String(format: "%16x %16x %8x    16         %@", vma, vma, size, name)
        }
        func symbol(_ vma: Int, _ size: Int, _ name: String) -> String {
            String(format: "%16x %16x %8x     1                 %@", vma, vma, size, name)
        }
        let map = [
            "             VMA              LMA     Size Align Out     In      Symbol",
            String(format: "%16x %16x %8x    16 .text.hot", 0x1ff000, 0x1ff000, 0x10),
            input(0x1ff000, 0x10, "/b/C.build/c.swift.o:(.text..L__unnamed_1)"),
            String(format: "%16x %16x %8x    64 .text", 0x200000, 0x200000, 0x100),
            input(0x200000, 0x40, "/b/A.build/a.swift.o:(.text.$sA1fyyF)"), symbol(0x200000, 0x40, "$sA1fyyF"),
            input(0x200040, 0x20, "/b/A.build/a.swift.o:(.text..Lobjectdestroy.3)"),
            input(0x200060, 0x30, "/b/B.build/b.swift.o:(.text.$sB1gyyF)"), symbol(0x200060, 0x30, "$sB1gyyF"),
            input(0x200090, 0x30, "/b/B.build/b.swift.o:(.text.$sB4coldyyF)"), symbol(0x200090, 0x30, "$sB4coldyyF"),
            input(0x2000c0, 0x30, "/opt/lib/libswiftCore.a(Swift.o):(.text)"), symbol(0x2000c0, 0x10, "$ss5firstyyF"),
            symbol(0x2000d0, 0x20, "$ss6secondyyF"),
            String(format: "%16x %16x %8x    16 .rodata", 0x300000, 0x300000, 0x10),
            input(0x300000, 0x10, "/b/A.build/a.swift.o:(.rodata)"),
        ].joined(separator: "\n") + "\n"
        try map.write(toFile: dir + "/link.map", atomically: true, encoding: .utf8)
        func profile(_ lines: [(Int, Int)]) -> String {
            "events: Ir\nob=(1) /usr/lib/libc.so.6\nfn=(1) memcpy\n0x200010 999\n"
                + "ob=(2) /tmp/x/monitoring-agent\nfn=(2) f\n" + lines.map { String(format: "0x%x %d", $0.0, $0.1) }.joined(separator: "\n") + "\n"
        }
        try profile([(0x200010, 5), (0x200050, 9), (0x2000d5, 1), (0x1ff004, 2), (0x300004, 50)])
            .write(toFile: dir + "/base.callgrind", atomically: true, encoding: .utf8)
        try profile([(0x200070, 100), (0x200010, 1000)]).write(toFile: dir + "/docker.callgrind", atomically: true, encoding: .utf8)
        _ = try await runProcess("/usr/bin/python3", [Paths.packageRoot + "/scripts/hot-text.py", dir + "/link.map", "monitoring-agent", dir,
                                                 dir + "/base.callgrind", "--", dir + "/docker.callgrind"])
        let symbols = try String(contentsOfFile: dir + "/hot-symbols.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(symbols == ["$sA1fyyF", "$ss5firstyyF", "$sB1gyyF"])
        let script = try String(contentsOfFile: dir + "/hot-text.ld", encoding: .utf8)
        let lines = script.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.hasPrefix("*/") } == ["*/A.build/a.swift.o(.text..Lobjectdestroy.3)", "*/C.build/c.swift.o(.text..L__unnamed_1)"])
        #expect(script.contains("INSERT BEFORE .text;"))
    }
}
