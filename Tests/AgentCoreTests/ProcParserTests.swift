@testable import AgentCore
import TestSupport
import Testing

@Suite struct ProcStatTests {
    @Test func parsesRecordedStat() throws {
        let t = try ProcStat.parse(Substring(Paths.fixtureText("proc/t0/stat")))
        #expect(t == CPUTimes(user: 3419, nice: 0, system: 1021, idle: 17171, iowait: 484, irq: 0, softirq: 102, steal: 1))
    }

    @Test func usageFromRecordedDelta() throws {
        let a = try ProcStat.parse(Substring(Paths.fixtureText("proc/t0/stat")))
        let b = try ProcStat.parse(Substring(Paths.fixtureText("proc/t1/stat")))
        let u = CPUTimes.usagePercent(from: a, to: b)
        let busy = Double((b.total - b.idleAll) - (a.total - a.idleAll))
        #expect(abs(u - busy / Double(b.total - a.total) * 100) < 1e-9)
        #expect(u > 0 && u < 100)
    }

    @Test func usageIsDeltaNotSinceBoot() {
        // 1000 jiffies since boot mostly idle, then a fully busy interval: 100 %, not ~10 %.
        let a = CPUTimes(user: 100, nice: 0, system: 0, idle: 900)
        let b = CPUTimes(user: 200, nice: 0, system: 0, idle: 900)
        #expect(CPUTimes.usagePercent(from: a, to: b) == 100)
        #expect(CPUTimes.usagePercent(from: a, to: a) == 0)
        #expect(CPUTimes.usagePercent(from: b, to: a) == 0)
        let io = CPUTimes(user: 100, nice: 0, system: 0, idle: 900, iowait: 100)
        #expect(CPUTimes.usagePercent(from: a, to: io) == 0, "iowait is idle time")
    }

    @Test func olderKernelWithFourFields() throws {
        let t = try ProcStat.parse("cpu  10 20 30 40\ncpu0 10 20 30 40\n")
        #expect(t.total == 100 && t.steal == 0)
    }

    @Test(arguments: ["", "cpu0 1 2 3 4\n", "cpu  1 2\n", "cpu  1 x 3 4 5\n", "intr 5\n", "cpu  1 2 3"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AgentError.self) { try ProcStat.parse(Substring(text)) }
    }
}

@Suite struct MemInfoTests {
    @Test func recorded() throws {
        let u = try MemInfo.usagePercent(Substring(Paths.fixtureText("proc/t0/meminfo")))
        #expect(abs(u - Double(24683656 - 24369476) / 24683656 * 100) < 1e-9)
    }

    @Test func fallbackWithoutMemAvailable() throws {
        let u = try MemInfo.usagePercent("MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 100 kB\nCached: 200 kB\n")
        #expect(u == 50)
    }

    @Test(arguments: ["", "MemFree: 10 kB\n", "MemTotal: 0 kB\nMemAvailable: 0 kB\n", "MemTotal: abc kB\n", "MemTotal: 100 kB\n", "MemTotal:"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AgentError.self) { try MemInfo.usagePercent(Substring(text)) }
    }
}

@Suite struct NetDevTests {
    @Test func recordedExcludesLoopback() throws {
        let ifs = try NetDev.parse(Substring(Paths.fixtureText("proc/t0/net/dev")))
        #expect(ifs["lo"] == nil)
        #expect(ifs["eth0"] == InterfaceCounters(rxBytes: 5903, txBytes: 5713))
        #expect(ifs.keys.sorted() == ["eth0", "ifb0", "ifb1"])
    }

    @Test func ratesOverInterval() {
        let old = ["eth0": InterfaceCounters(rxBytes: 1000, txBytes: 500), "gone": InterfaceCounters(rxBytes: 1, txBytes: 1)]
        let new = ["eth0": InterfaceCounters(rxBytes: 3000, txBytes: 1500), "new0": InterfaceCounters(rxBytes: 1 << 40, txBytes: 0)]
        let r = NetDev.rates(old: old, new: new, elapsedSeconds: 2)
        #expect(r.rx == 1000 && r.tx == 500)
        #expect(NetDev.rates(old: old, new: new, elapsedSeconds: 0) == (0, 0))
    }

    @Test func counterWrapAndReset() {
        #expect(NetDev.counterDelta(old: 10, new: 15) == 5)
        #expect(NetDev.counterDelta(old: UInt64(UInt32.max) - 9, new: 5) == 15, "32-bit wrap")
        #expect(NetDev.counterDelta(old: 1 << 40, new: 100) == 100, "64-bit decrease is a reset")
    }

    @Test(arguments: ["  eth0: 1 2 3\n", "  eth0: x 0 0 0 0 0 0 0 9 0 0 0 0 0 0 0\n"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AgentError.self) { try NetDev.parse(Substring(text)) }
    }

    @Test func headersOnlyAndEmptyAreEmpty() throws {
        #expect(try NetDev.parse("").isEmpty)
        let headers = try Paths.fixtureText("proc/t0/net/dev").split(separator: "\n").prefix(2).joined(separator: "\n")
        #expect(try NetDev.parse(Substring(headers)).isEmpty)
    }
}

@Suite struct NetSNMPTests {
    /// Independent reading of the recorded file: the value under the CurrEstab header.
    func currEstab(_ snapshot: String) throws -> Int {
        let lines = try Paths.fixtureText("proc/\(snapshot)/net/snmp").split(separator: "\n").filter { $0.hasPrefix("Tcp:") }
        let names = lines[0].split(separator: " "), values = lines[1].split(separator: " ")
        return Int(values[names.firstIndex(of: "CurrEstab")!])!
    }

    @Test func recordedCurrEstab() throws {
        // t1 was recorded with 3 IPv4 and 2 IPv6 loopback connections open (both ends: 10), one
        // half-closed pair (the CLOSE_WAIT end counts, the FIN_WAIT2 end does not) and the 2
        // connections the machine already had (t0).
        #expect(try NetSNMP.tcpCurrentlyEstablished(Substring(Paths.fixtureText("proc/t0/net/snmp"))) == 2)
        #expect(try NetSNMP.tcpCurrentlyEstablished(Substring(Paths.fixtureText("proc/t1/net/snmp"))) == 13)
        #expect(try currEstab("t1") == 13 && currEstab("t0") == 2)
        let bytes = Array(try Paths.fixtureText("proc/t1/net/snmp").utf8)
        #expect(try NetSNMP.tcpCurrentlyEstablished(bytes) == 13)
    }

    @Test(arguments: [
        "", "Ip: Forwarding\nIp: 1\n", "Tcp: RtoAlgorithm RtoMin\nTcp: 1 200\n",
        "Tcp: RtoAlgorithm CurrEstab\nTcp: 1\n", "Tcp: RtoAlgorithm CurrEstab\nTcp: 1 x\n",
        "Tcp: RtoAlgorithm CurrEstab\n",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AgentError.self) { try NetSNMP.tcpCurrentlyEstablished(Substring(text)) }
    }
}

@Suite struct DiskUsageTests {
    @Test func dfStyleUsage() {
        // 100 blocks, 30 free of which 20 available to users: used 70 / (70 + 20).
        #expect(abs(FilesystemBlocks(total: 100, free: 30, available: 20).usedPercent - 70.0 / 90 * 100) < 1e-9)
        #expect(FilesystemBlocks(total: 0, free: 0, available: 0).usedPercent == 0)
    }
}
