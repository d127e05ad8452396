import AgentCore

/// A FIFO of payloads waiting for delivery. Two implementations: `DiskQueue` (write-ahead,
/// survives crashes) and `MemoryQueue` (the fallback when the disk fails); one test suite runs
/// against both.
public protocol PayloadQueue: AnyObject {
    /// Payloads waiting.
    var count: Int { get }
    /// Bytes they take (on disk for the disk queue).
    var byteCount: Int { get }
    /// Payloads dropped to stay within the bound.
    var droppedCount: Int { get }
    /// Records found unreadable and skipped.
    var corruptCount: Int { get }
    /// Adds at the tail; durable when it returns. Makes room by dropping the oldest.
    func append(_ payload: EncodedPayload) throws
    /// The oldest payload, or nil when empty.
    func first() throws -> EncodedPayload?
    /// Acknowledges the oldest payload if it still has this id (it may have been dropped meanwhile).
    func removeFirst(ifID id: String) throws
}

/// The in-memory queue: a bounded buffer behind the queue protocol.
public final class MemoryQueue: PayloadQueue {
    private var buffer: BoundedBuffer
    public private(set) var byteCount = 0

    public init(capacity: Int) { buffer = BoundedBuffer(capacity: capacity) }

    public var count: Int { buffer.count }
    public var droppedCount: Int { buffer.dropped }
    public var corruptCount: Int { 0 }

    public func append(_ payload: EncodedPayload) {
        if let evicted = buffer.append(payload) { byteCount -= evicted.body.count }
        byteCount += payload.body.count
    }

    public func first() -> EncodedPayload? { buffer.first }

    public func removeFirst(ifID id: String) {
        if let f = buffer.first, f.id == id {
            buffer.removeFirst(ifID: id)
            byteCount -= f.body.count
        }
    }
}
