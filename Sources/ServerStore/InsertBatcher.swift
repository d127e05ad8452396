import AgentCore
import DequeModule
import Synchronization

/// Group commit for a store: writes that arrive while a batch is being written wait and go
/// together in the next transaction, so one commit (one fsync, one round trip per table) serves
/// as many payloads as arrived meanwhile. Nothing waits for a batch to fill: a lone request is
/// written at once, so latency under light load is one transaction's.
///
/// At most `writers` batches are in flight (one database connection each), each at most
/// `maxBatch` items. A batch that fails is written again one item at a time, so one item the
/// database refuses fails alone and the others are stored.
public final class InsertBatcher<Item: Sendable, Outcome: Sendable>: Sendable {
    public typealias Write = @Sendable ([Item]) async throws -> [Outcome]

    struct Waiter {
        let item: Item
        let done: CheckedContinuation<Outcome, any Error>
    }

    struct State {
        var pending = Deque<Waiter>()
        var writing = 0
    }

    private let state = Mutex(State())
    private let maxBatch: Int
    private let writers: Int
    private let write: Write

    /// `write` gets a batch and returns one outcome per item, in order.
    public init(maxBatch: Int, writers: Int, write: @escaping Write) {
        precondition(maxBatch > 0 && writers > 0)
        self.maxBatch = maxBatch
        self.writers = writers
        self.write = write
    }

    public func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Outcome, any Error>) in
            let start = state.withLock { s in
                s.pending.append(Waiter(item: item, done: done))
                guard s.writing < writers else { return false }
                s.writing += 1
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// One writer: takes what is pending, writes it, until nothing is.
    private func drain() async {
        while true {
            let batch: [Waiter] = state.withLock { s in
                guard !s.pending.isEmpty else { s.writing -= 1; return [] }
                let n = min(maxBatch, s.pending.count)
                let taken = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                return taken
            }
            if batch.isEmpty { return }
            await run(batch)
        }
    }

    private func run(_ batch: [Waiter]) async {
        do {
            let outcomes = try await write(batch.map(\.item))
            precondition(outcomes.count == batch.count, "one outcome per item")
            for (w, o) in zip(batch, outcomes) { w.done.resume(returning: o) }
        } catch {
            guard batch.count > 1 else { batch[0].done.resume(throwing: error); return }
            for w in batch {
                do {
                    let o = try await write([w.item])
                    w.done.resume(returning: o[0])
                } catch {
                    w.done.resume(throwing: error)
                }
            }
        }
    }
}

/// A verified payload on its way into a store, as the stores' batchers carry it.
public struct PendingInsert: Sendable {
    public let payload: Payload
    public let body: [UInt8]
    public let receivedAt: Int64
    public let keyID: String?
    /// The payload's own time (its timestamp; the arrival when that does not parse).
    public let collectedAt: Int64

    public init(_ payload: Payload, body: [UInt8], receivedAt: Int64, keyID: String?) {
        self.payload = payload
        self.body = body
        self.receivedAt = receivedAt
        self.keyID = keyID
        collectedAt = RFC3339.parse(payload.timestamp) ?? receivedAt
    }
}
