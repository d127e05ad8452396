import AgentCore
import AgentPlatform
@testable import AgentLinux
import Foundation
import Glibc
import TestSupport
import Testing

/// A scratch procfs root the test can swap recorded snapshots into.
func scratchProc(from snapshot: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)").path
    try FileManager.default.copyItem(atPath: Paths.fixtures + "/proc/" + snapshot, toPath: dir)
    return dir
}

func replace(_ dir: String, with snapshot: String) throws {
    try FileManager.default.removeItem(atPath: dir)
    try FileManager.default.copyItem(atPath: Paths.fixtures + "/proc/" + snapshot, toPath: dir)
}

@Suite struct HostMetricsCollectorTests {
    @Test func deltasBetweenRecordedSnapshots() throws {
        let dir = try scratchProc(from: "t0")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = HostMetricsCollector(proc: ProcFS(root: dir), diskPath: "/")
        let t0 = ContinuousClock.now
        c.prime(now: t0)
        try replace(dir, with: "t1")
        let (m, errors) = c.collect(now: t0.advanced(by: .seconds(4)))
        #expect(errors.isEmpty)

        // Independent arithmetic on the recorded numbers.
        let s0 = try String(contentsOfFile: Paths.fixtures + "/proc/t0/stat", encoding: .utf8)
        let s1 = try String(contentsOfFile: Paths.fixtures + "/proc/t1/stat", encoding: .utf8)
        func jiffies(_ s: String) -> (busy: Double, total: Double) {
            let f = s.split(separator: "\n")[0].split(separator: " ").dropFirst().prefix(8).map { Double($0)! }
            let total = f.reduce(0, +)
            return (total - f[3] - f[4], total)
        }
        let (b0, t0j) = jiffies(s0), (b1, t1j) = jiffies(s1)
        let expectedCPU: Double = ((b1 - b0) / (t1j - t0j) * 100 * 100).rounded() / 100
        #expect(abs(try #require(m.cpuUsage) - expectedCPU) < 0.011)

        func ifaces(_ snap: String) throws -> [String: (Double, Double)] {
            let text = try String(contentsOfFile: Paths.fixtures + "/proc/\(snap)/net/dev", encoding: .utf8)
            var out = [String: (Double, Double)]()
            for line in text.split(separator: "\n").dropFirst(2) {
                let parts = line.split(separator: ":")
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                let nums = parts[1].split(separator: " ").map { Double($0)! }
                if name != "lo" { out[name] = (nums[0], nums[8]) }
            }
            return out
        }
        let n0 = try ifaces("t0"), n1 = try ifaces("t1")
        let rx = n1.keys.reduce(0.0) { $0 + n1[$1]!.0 - (n0[$1]?.0 ?? n1[$1]!.0) } / 4
        #expect(abs(try #require(m.networkRxBytesPerSec) - (rx * 100).rounded() / 100) < 0.011)
        #expect(m.tcpConnections == 13, "CurrEstab of the t1 recording")
        let memory = try #require(m.memoryUsage), disk = try #require(m.diskUsage)
        #expect(memory > 0 && memory < 100)
        #expect(disk > 0 && disk <= 100)
    }

    @Test func firstSampleWithoutPrimeHasNoRates() throws {
        var c = HostMetricsCollector(proc: ProcFS(root: Paths.fixtures + "/proc/t0"), diskPath: "/")
        let (m, errors) = c.collect(now: .now)
        #expect(errors.isEmpty && m.cpuUsage == nil && m.networkRxBytesPerSec == nil, "a rate needs two readings: unknown, not 0")
    }

    @Test func brokenSourcesAreReportedAndOthersStillFlow() throws {
        let dir = try scratchProc(from: "t0")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "garbage\n".write(toFile: dir + "/meminfo", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dir + "/net/snmp")
        var c = HostMetricsCollector(proc: ProcFS(root: dir), diskPath: "/definitely/not/here")
        let (m, errors) = c.collect(now: .now)
        #expect(Set(errors.map(\.code)) == [.procParse, .statvfs, .fileRead])
        #expect(m.memoryUsage == nil && m.diskUsage == nil, "unreadable: null, never a fake 0")
        #expect(m.tcpConnections == nil)
    }

    @Test func liveProcOnThisMachine() throws {
        var c = HostMetricsCollector(proc: ProcFS(), diskPath: "/")
        let start = ContinuousClock.now
        c.prime(now: start)
        var x = 0.0
        for i in 0..<3_000_000 { x += Double(i).squareRoot() } // some real CPU work
        let (m, errors) = c.collect(now: .now)
        #expect(errors.isEmpty, "\(errors)")
        let cpu = try #require(m.cpuUsage), memory = try #require(m.memoryUsage)
        #expect(x > 0 && cpu > 0 && cpu <= 100)
        #expect(memory > 0 && memory < 100 && (m.diskUsage ?? 0) > 0)
    }

    @Test func liveConnectionsAreCounted() throws {
        // Eight real loopback connections (both ends established: 16) must show in the count;
        // other tests may open or close their own meanwhile, so only a lower bound is exact.
        var c = HostMetricsCollector(proc: ProcFS(), diskPath: "/")
        let sockets = try (0..<8).flatMap { _ in try loopbackPair() }
        defer { sockets.forEach { close($0) } }
        let (m, errors) = c.collect(now: .now)
        #expect(errors.isEmpty, "\(errors)")
        #expect((m.tcpConnections ?? 0) >= 16, "\(String(describing: m.tcpConnections))")
    }
}

/// A connected pair of TCP sockets on 127.0.0.1 (listener closed): [client, accepted].
func loopbackPair() throws -> [Int32] {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &addr) { p in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            guard bind(listener, sa, len) == 0, listen(listener, 1) == 0, getsockname(listener, sa, &len) == 0 else {
                throw Errno.current()
            }
        }
    }
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try withUnsafePointer(to: &addr) { p in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            guard connect(client, sa, len) == 0 else { throw Errno.current() }
        }
    }
    let accepted = accept(listener, nil, nil)
    guard accepted >= 0 else { throw Errno.current() }
    return [client, accepted]
}

@Suite struct FileReadingTests {
    @Test func readsProcFilesWhoseSizeIsZero() throws {
        let text = try ProcFS().read("self/status")
        #expect(text.contains("VmRSS:"))
    }

    @Test func errorsNameThePathAndErrno() {
        #expect { try FileReading.readToEnd(path: "/nonexistent/file") } throws: { e in
            "\(e)".contains("/nonexistent/file") && "\(e)".contains("No such file")
        }
    }

    @Test func trailingSlashRootIsNormalised() {
        #expect(ProcFS(root: "/proc/").root == "/proc")
    }
}
