import AgentCore
import AgentServer

/// The receiver's sink into a store. A payload_id already stored is answered 200 and not stored
/// again. A payload's own time decides where it is kept, so it is bounded before any store sees
/// it: collected longer ago than the retention it would be deleted at the next upkeep (answered
/// 200 `expired`, not stored: the agent counts it delivered), more than a day ahead of this
/// server's clock it is refused (422: a broken clock, which retrying cannot mend). The bound also
/// caps how many day partitions agents can make a partitioned store create.
public struct DatabaseSink: PayloadSink {
    let store: any PayloadStore
    let retentionDays: Int
    let wallClock: @Sendable () -> Int64

    /// How far ahead of this server's clock a payload's timestamp may be.
    public static let maxAheadSeconds: Int64 = 86_400

    public init(store: any PayloadStore, retentionDays: Int, wallClock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.retentionDays = retentionDays
        self.wallClock = wallClock
    }

    public var deduplicates: Bool { true }

    public func accept(_ payload: Payload, body: [UInt8]) async throws -> SinkResult {
        try await accept(payload, body: body, keyID: nil)
    }

    public func accept(_ payload: Payload, body: [UInt8], keyID: String?) async throws -> SinkResult {
        let now = wallClock()
        guard let collected = RFC3339.parse(payload.timestamp) else {
            return .refused(status: 422, reason: "timestamp is not an RFC 3339 time")
        }
        if collected > now + Self.maxAheadSeconds {
            return .refused(status: 422, reason: "timestamp more than a day ahead of the server's clock")
        }
        if collected < now - Int64(retentionDays) * 86_400 { return .expired }
        return try await store.insert(payload, body: body, receivedAt: now, keyID: keyID) ? .stored : .duplicate
    }
}
