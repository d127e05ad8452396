@testable import AgentCore
import Foundation
import TestSupport
import Testing

@Suite struct PayloadTests {
    static func sample() -> Payload {
        Payload(
            payloadID: "6f1c2a9e-3b7d-4c1e-9a55-0d2f8e7b6a10", agentVersion: "0.1.0", host: "web-01",
            serverID: "srv-123", env: "prod", ownerTeam: "payments", timestamp: RFC3339.format(unixSeconds: 1_736_937_000),
            metrics: HostMetrics(cpuUsage: 45.2, memoryUsage: 67.8, diskUsage: 23.1, networkRxBytesPerSec: 1_024_000,
                                 networkTxBytesPerSec: 512_000, tcpConnections: 150),
            dockerEvents: [DockerEvent(type: "container", action: "start", container: "web-server", image: "nginx:latest",
                                       timestamp: "2025-01-15T10:29:45Z")],
            logs: [LogEntry(container: "web-server", message: "Server started on port 80 / ok", timestamp: "2025-01-15T10:29:46Z")],
            alerts: [Alert(.cpuSpike), Alert(.bruteForce, subject: "192.168.1.100"), Alert(.shellInContainer)])
    }

    @Test func goldenEncoding() throws {
        let bytes = try PayloadCoding.encode(Self.sample())
        let golden = try Paths.fixtureText("golden/payload.json").trimmingCharacters(in: .newlines)
        #expect(String(decoding: bytes, as: UTF8.self) == golden)
    }

    @Test func specFieldsAndTypes() throws {
        let obj = try JSONSerialization.jsonObject(with: Data(PayloadCoding.encode(Self.sample()))) as! [String: Any]
        #expect(Set(obj.keys) == ["host", "server_id", "env", "owner_team", "timestamp", "metrics", "docker_events", "logs",
                                  "local_alerts", "score", "payload_id", "agent_version", "alerts_detail"])
        let m = obj["metrics"] as! [String: Any]
        #expect(Set(m.keys) == ["cpu_usage", "memory_usage", "disk_usage", "network_rx_bytes_per_sec", "network_tx_bytes_per_sec", "tcp_connections"])
        #expect(obj["score"] as? Double == 1.5)
        #expect(obj["local_alerts"] as? [String] == ["CPU_SPIKE", "BRUTE_FORCE:192.168.1.100", "SHELL_IN_CONTAINER"])
        #expect(obj["timestamp"] as? String == "2025-01-15T10:30:00Z")
    }

    @Test func roundTrips() throws {
        var p = Self.sample()
        #expect(try PayloadCoding.decode(PayloadCoding.encode(p)) == p)
        p.alertsDetail = [AlertDetail(rule: .shellInContainer, container: "web", image: "nginx", command: "sh", user: "root"),
                          AlertDetail(rule: .http5xxSpike, container: "api", errors: 12, total: 40)]
        #expect(try PayloadCoding.decode(PayloadCoding.encode(p)) == p)
    }

    @Test func decodesSpecPayloadsWithoutTheAdditions() throws {
        var obj = try JSONSerialization.jsonObject(with: Data(PayloadCoding.encode(Self.sample()))) as! [String: Any]
        obj["alerts_detail"] = nil
        let p = try PayloadCoding.decode(Array(JSONSerialization.data(withJSONObject: obj)))
        #expect(p.alertsDetail.isEmpty && p.logs == Self.sample().logs)
    }

    @Test func scoreSumsWeightsFromOneTable() {
        #expect(AlertRule.cpuSpike.weight == 0.4 && AlertRule.bruteForce.weight == 0.5)
        #expect(AlertRule.shellInContainer.weight == 0.6 && AlertRule.http5xxSpike.weight == 0.25)
        #expect(Alert.score(of: [Alert(.cpuSpike), Alert(.http5xxSpike)]) == 0.65)
        #expect(Alert.score(of: [Alert(.bruteForce, subject: "a"), Alert(.bruteForce, subject: "b")]) == 1.0)
        #expect(Alert.score(of: []) == 0)
        #expect(Alert(wireValue: "BRUTE_FORCE:2001:db8::1") == Alert(.bruteForce, subject: "2001:db8::1"))
        #expect(Alert(wireValue: "NOPE") == nil)
    }

    @Test func metricsRoundToTwoDecimals() {
        let m = HostMetrics(cpuUsage: 12.3456, memoryUsage: 1.005, diskUsage: 0, networkRxBytesPerSec: 10.0 / 3,
                            networkTxBytesPerSec: 0, tcpConnections: 3).rounded()
        #expect(m.cpuUsage == 12.35 && m.networkRxBytesPerSec == 3.33)
    }
}

@Suite struct RFC3339Tests {
    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00Z"), (1_736_937_000, "2025-01-15T10:30:00Z"),
                      (951_782_400, "2000-02-29T00:00:00Z"), (4_102_444_799, "2099-12-31T23:59:59Z"), (-1, "1969-12-31T23:59:59Z")])
    func formatsAndParses(_ t: Int64, _ s: String) {
        #expect(RFC3339.format(unixSeconds: t) == s)
        #expect(RFC3339.parse(s) == t)
    }

    @Test func parsesFractionsAndOffsets() {
        #expect(RFC3339.parse("2025-01-15T10:30:00.123456789Z") == 1_736_937_000)
        #expect(RFC3339.parse("2025-01-15T11:30:00+01:00") == 1_736_937_000)
        #expect(RFC3339.parse("2026-11-28T05:54:23.274377+00:00") != nil)
        for bad in ["", "2025-01-15", "2025-13-15T10:30:00Z", "2025-01-15T10:30:00", "2025-01-15T10:30:00Zjunk"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func httpDate() {
        #expect(HTTPDate.parse("Wed, 15 Jan 2025 10:30:00 GMT") == 1_736_937_000)
        #expect(HTTPDate.parse("Wed, 15 Foo 2025 10:30:00 GMT") == nil)
        // RFC 9110's own example, the epoch, a leap day, a date before 1970; each parses back.
        let known: [(Int64, String)] = [
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"), (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"), (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (1_736_937_000, "Wed, 15 Jan 2025 10:30:00 GMT"),
        ]
        for (seconds, text) in known {
            #expect(HTTPDate.format(unixSeconds: seconds) == text)
            #expect(HTTPDate.parse(text) == seconds)
        }
    }
}

@Suite struct PayloadIDTests {
    @Test func isAVersion4UUIDInLowercase() {
        #expect(PayloadID.format(Array(0..<16)) == "00010203-0405-4607-8809-0a0b0c0d0e0f")
        #expect(PayloadID.format([UInt8](repeating: 0xFF, count: 16)) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        var seen = Set<String>()
        for _ in 0..<2000 {
            let id = PayloadID.random()
            let u = Array(id.utf8)
            #expect(u.count == 36 && u[8] == UInt8(ascii: "-") && u[13] == UInt8(ascii: "-") && u[18] == UInt8(ascii: "-") && u[23] == UInt8(ascii: "-"))
            #expect(u[14] == UInt8(ascii: "4") && "89ab".utf8.contains(u[19]), "\(id)")
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 2000)
    }
}
