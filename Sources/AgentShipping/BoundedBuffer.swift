import AgentCore
import DequeModule

/// A payload encoded once; the same bytes are re-signed on every attempt.
public struct EncodedPayload: Sendable, Equatable {
    public let id: String
    public let body: [UInt8]
    public init(id: String, body: [UInt8]) { self.id = id; self.body = body }
    public init(_ payload: Payload) throws {
        self.init(id: payload.payloadID, body: try PayloadCoding.encode(payload))
    }
}

/// FIFO of payloads waiting for delivery. Bounded: past `capacity` the oldest is dropped and
/// counted, so collection never blocks on a dead server.
public struct BoundedBuffer: Sendable {
    public let capacity: Int
    private var items: Deque<EncodedPayload> = []
    public private(set) var dropped = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { items.count }
    public var first: EncodedPayload? { items.first }
    public var isEmpty: Bool { items.isEmpty }

    /// Appends; returns the payload dropped to make room, if any.
    @discardableResult
    public mutating func append(_ p: EncodedPayload) -> EncodedPayload? {
        var evicted: EncodedPayload?
        if items.count >= capacity {
            evicted = items.removeFirst()
            dropped += 1
        }
        items.append(p)
        return evicted
    }

    /// Removes the payload with this id if it is still at the front (it may have been evicted meanwhile).
    public mutating func removeFirst(ifID id: String) {
        if items.first?.id == id { items.removeFirst() }
    }
}
