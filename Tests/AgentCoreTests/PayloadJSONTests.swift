import AgentCore
import Foundation
import TestSupport
import Testing

/// The hand-written payload encoder must produce exactly JSONEncoder's bytes for the Codable form.
@Suite struct PayloadJSONTests {
    static func reference(_ p: Payload) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(p))
    }

    /// A deterministic generator, so a failure names a reproducible seed.
    struct Gen {
        var rng: SplitMix64
        init(state: UInt64) { rng = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { rng.next() }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        static let pieces = ["a", "Z", "0", " ", "/", "\\", "\"", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}", "\u{01}",
                             "\u{1F}", "\u{7F}", "é", "日本", "🙂", "e\u{301}", "\r\n", "<>&'", "password=***", "{}[]:,"]
        mutating func string() -> String { (0..<int(12)).map { _ in Self.pieces[int(Self.pieces.count)] }.joined() }
        mutating func double() -> Double {
            switch int(8) {
            case 0: return 0
            case 1: return Double(int(1_000_000))
            case 2: return Double(int(10_000)) / 100
            case 3: return Double(bitPattern: next() & 0x7FEF_FFFF_FFFF_FFFF) // any finite positive
            case 4: return -Double(int(1000)) / 7
            case 5: return 1e-7 * Double(int(100))
            case 6: return 1e21 * Double(int(100) + 1)
            default: return Double(int(3)) * 0.25 + 0.1
            }
        }
        mutating func payload() -> Payload {
            let m = HostMetrics(cpuUsage: double(), memoryUsage: double(), diskUsage: double(),
                                networkRxBytesPerSec: double(), networkTxBytesPerSec: double(), tcpConnections: int(100_000))
            var p = Payload(payloadID: string(), agentVersion: string(), host: string(), serverID: string(), env: string(),
                            ownerTeam: string(), timestamp: string(), metrics: m,
                            dockerEvents: (0..<int(3)).map { _ in DockerEvent(type: string(), action: string(), container: string(), image: string(), timestamp: string()) },
                            logs: (0..<int(4)).map { _ in LogEntry(container: string(), message: string(), timestamp: string()) },
                            alerts: (0..<int(3)).map { _ in Alert(AlertRule.allCases[int(4)], subject: int(2) == 0 ? nil : "10.0.0.\(int(255))") },
                            alertsDetail: (0..<int(3)).map { _ in
                                var d = AlertDetail(rule: AlertRule.allCases[int(AlertRule.allCases.count)], container: string(),
                                                    image: int(2) == 0 ? nil : string(), command: int(2) == 0 ? nil : string(),
                                                    user: int(2) == 0 ? nil : string(), errors: int(2) == 0 ? nil : int(1000),
                                                    total: int(2) == 0 ? nil : int(100_000))
                                if int(2) == 0 { // the auth detectors' fields
                                    d.source = string(); d.failures = int(2040); d.probes = int(100); d.windowSeconds = int(86_400)
                                    d.services = (0..<int(3)).map { _ in string() }; d.method = string(); d.distinct = int(1000)
                                    d.samples = (0..<int(5)).map { _ in string() }
                                }
                                return d
                            },
                            simulated: int(2) == 0)
            if int(4) == 0 { p.score = double() }
            return p
        }
    }

    @Test(arguments: 0..<20)
    func sameBytesAsJSONEncoder(seed: Int) throws {
        var g = Gen(state: UInt64(seed))
        for _ in 0..<100 {
            let p = g.payload()
            let mine = try PayloadCoding.encode(p), theirs = try Self.reference(p)
            #expect(mine == theirs, "seed \(seed):\n\(String(decoding: mine, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
            if mine != theirs { return }
            #expect(try PayloadCoding.decode(mine) == p)
        }
    }

    @Test func nonFiniteNumbersAreAnError() {
        var p = PayloadTests.sample()
        p.score = .nan
        #expect(throws: AgentError.self) { try PayloadCoding.encode(p) }
        p.score = 1
        p.metrics.cpuUsage = .infinity
        #expect(throws: AgentError.self) { try PayloadCoding.encode(p) }
    }
}
