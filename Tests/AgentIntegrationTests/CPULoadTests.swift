import AgentCore
import AgentPlatform
@testable import AgentLinux
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real CPU spike from stress-ng must raise CPU_SPIKE. scripts/test.sh runs this suite on its
/// own after the others, so their load does not blur the agent's baseline.
@Suite(.serialized) struct CPULoadTests {
    @Test func stressNGRaisesCPUSpike() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/stress-ng"), "stress-ng missing: run through scripts/test.sh")
        let dir = Paths.tempDir("cpu")
        let secretFile = writeSecret(dir, "cpu-secret")
        let verifier = try await PythonVerifier(dir: dir, secretFile: secretFile)
        let agent = try Peer("agent", try Paths.agentBinary(), [
            "--server-url", "http://127.0.0.1:\(verifier.port)/", "--secret-file", secretFile, "--interval", "0.5",
            "--health-addr", "127.0.0.1:\(freePort())", "--auth-source", "none",
            "--baseline-samples", "6", "--cpu-spike-pct", "80"], dir: dir)
        func payloads() -> [Payload] { verifier.records().compactMap { try? PayloadCoding.decode(Array($0.body.utf8)) } }
        // The baseline must be calm for a spike to stand out: wait for 6 quiet samples in a row.
        try await eventually(timeout: 90, "a calm baseline (6 samples below 50 % CPU; is something else loading the machine?)") {
            let recent = payloads().suffix(6)
            return recent.count == 6 && recent.allSatisfy { ($0.metrics.cpuUsage ?? 100) < 50 }
        }
        #expect(!payloads().suffix(6).contains { $0.localAlerts.contains("CPU_SPIKE") }, "no spike while idle")
        let calm = payloads().count
        // Started with default signal handling (this test process ignores some signals, and
        // stress-ng's --timeout needs SIGALRM); stopped with SIGTERM, which ends its workers too.
        let stress = try ChildProcess(executable: "/usr/bin/stress-ng",
                                      arguments: ["--cpu", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))", "--timeout", "20s", "--quiet"])
        do {
            try await eventually(timeout: 30, "CPU_SPIKE under stress-ng") {
                payloads().dropFirst(calm).contains { $0.localAlerts.contains("CPU_SPIKE") && ($0.metrics.cpuUsage ?? 0) >= 80 }
            }
        } catch {
            // What the agent saw, and what stress-ng did, so a failure says which side it was.
            let seen = payloads().dropFirst(calm).map { "\($0.metrics.cpuUsage.map { String(Int($0)) } ?? "-")\($0.localAlerts.isEmpty ? "" : "!")" }
            let ending = await stress.terminate()
            Issue.record("CPU after the calm baseline (! = alerts): \(seen.joined(separator: " ")); stress-ng: \(ending); agent: \(agent.stderr.suffix(1500))")
            throw error
        }
        await stress.terminate()
        agent.signal(SIGTERM)
        #expect(await agent.waitExit(timeout: 20) == 0)
        let spiked = payloads().dropFirst(calm).first { $0.localAlerts.contains("CPU_SPIKE") }
        #expect(spiked?.score == 0.4 && spiked?.simulated == nil)
    }
}
