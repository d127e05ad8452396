import AgentCore
import AgentPlatform
@testable import AgentShipping
import Logging
import Synchronization

/// Test doubles for the shipper, shared by the shipping tests and the seam tests.

/// A transport that answers from a script and records what it was sent: the body as the shipper
/// built it (decoded when it came gzip-compressed) and the bytes on the wire.
public final class ScriptedTransport: PayloadTransport {
    public struct Sent: Sendable {
        public let id: String
        public let timestamp: String
        public let signature: String
        public let body: [UInt8]
        public let wire: [UInt8]
        /// `Content-Encoding`, nil when absent.
        public let encoding: String?
    }
    private let state: Mutex<(script: [TransportResult], sent: [Sent])>
    let fallback: TransportResult

    /// How long each request takes; a request cancelled meanwhile ends as the real transport's
    /// does, a failure, and is counted in `cancelled`.
    let latency: Duration
    private let cancelledCount = Mutex(0)

    public init(_ script: [TransportResult], then fallback: TransportResult = .response(status: 200, retryAfter: nil, date: nil),
                latency: Duration = .zero) {
        state = Mutex((script, []))
        self.fallback = fallback
        self.latency = latency
    }

    public var cancelled: Int { cancelledCount.withLock { $0 } }

    public func post(body: [UInt8], headers: [(name: String, value: String)]) async -> TransportResult {
        let h = Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let encoding = h["Content-Encoding"]
        let decoded = encoding == "gzip" ? ((try? Gzip.decompress(body, limit: 1 << 30)) ?? []) : body
        let id = (try? PayloadCoding.decode(decoded).payloadID) ?? "?"
        let result = state.withLock {
            $0.sent.append(Sent(id: id, timestamp: h[PayloadSigner.timestampHeader] ?? "", signature: h[PayloadSigner.signatureHeader] ?? "",
                                body: decoded, wire: body, encoding: encoding))
            return $0.script.isEmpty ? fallback : $0.script.removeFirst()
        }
        if latency > .zero {
            try? await Task.sleep(for: latency)
            if Task.isCancelled {
                cancelledCount.withLock { $0 += 1 }
                return .failure(reason: "cancelled")
            }
        }
        return result
    }

    public func close() async {}
    public var sent: [Sent] { state.withLock { $0.sent } }
}

/// A small valid payload; `pad` characters of host name make it larger.
public func testPayload(_ id: String, pad: Int = 0) throws -> EncodedPayload {
    try EncodedPayload(Payload(payloadID: id, agentVersion: "t", host: String(repeating: "h", count: max(1, pad)), serverID: "s",
                               env: "dev", ownerTeam: "", timestamp: "2025-01-01T00:00:00Z",
                               metrics: HostMetrics(cpuUsage: 1, memoryUsage: 2, diskUsage: 3, networkRxBytesPerSec: 0,
                                                    networkTxBytesPerSec: 0, tcpConnections: 0)))
}

/// Wall clock that advances one second per read, so each attempt gets a new timestamp.
public final class TickingWallClock: Sendable {
    let t = Mutex<Int64>(1_700_000_000)
    public init() {}
    public func read() -> Int64 { t.withLock { $0 += 1; return $0 } }
}

public func makeShipper(_ transport: ScriptedTransport, capacity: Int = 10, attempts: Int = 4, status: AgentStatus = AgentStatus(startedAtUnix: 0),
                        compressMinBytes: Int = 1024, drainBatch: Int = 50, drainRate: Double = 10_000) -> Shipper<ContinuousClock> {
    let wall = TickingWallClock()
    return Shipper(transport: transport, signer: PayloadSigner(secret: Secret("k")),
                   configuration: ShipperConfiguration(policy: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05),
                                                       capacity: capacity, drainBatch: drainBatch, drainRate: drainRate,
                                                       cycleBudget: .seconds(5), shutdownBudget: .seconds(1),
                                                       compressMinBytes: compressMinBytes),
                   status: status, clock: ContinuousClock(), wallClock: { wall.read() }, random: { 0.5 },
                   logger: Logger(label: "test"))
}

