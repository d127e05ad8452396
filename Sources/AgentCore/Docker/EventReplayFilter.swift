import DequeModule

/// Which container events were already handled, so that the overlap a reconnection asks for again
/// (`since`) is skipped without dropping live events that arrive out of time order. dockerd does
/// deliver those: events of concurrent operations reach the stream up to tens of milliseconds out
/// of `timeNano` order, so "skip anything not newer than the newest seen" loses real events.
///
/// An event is known by a 64-bit keyed hash of its time, container id and action, kept while its
/// time is within `overlap` of the newest seen (at most `capacity` of them), so memory follows the
/// event rate. A reconnection asks for everything since the newest time minus `overlap`: a late
/// event of up to `overlap` seconds is still fetched, and what was handled already is skipped.
public struct EventReplayFilter: Sendable {
    struct Seen: Sendable {
        var time: DockerTimestamp
        var key: Int
    }

    public let overlapSeconds: Int64
    public let capacity: Int
    private var order: Deque<Seen> = []
    private var keys: Set<Int> = []
    /// The newest event time handled.
    public private(set) var newest: DockerTimestamp?

    public init(overlapSeconds: Int64 = 5, capacity: Int = 4096) {
        self.overlapSeconds = max(0, overlapSeconds)
        self.capacity = max(1, capacity)
    }

    /// Where a reconnection's event stream starts (nil: from now).
    public var since: DockerTimestamp? {
        newest.map { DockerTimestamp(seconds: $0.seconds - overlapSeconds, nanos: $0.nanos) }
    }

    /// Records the event and returns true the first time it is offered; false for a replay.
    public mutating func admit(time: DockerTimestamp, id: String, action: String) -> Bool {
        var h = Hasher()
        h.combine(time)
        h.combine(id)
        h.combine(action)
        let key = h.finalize()
        guard keys.insert(key).inserted else { return false }
        order.append(Seen(time: time, key: key))
        if newest.map({ time > $0 }) ?? true { newest = time }
        let horizon = since!
        while let first = order.first, first.time < horizon || order.count > capacity {
            keys.remove(first.key)
            order.removeFirst()
        }
        return true
    }

    /// Events remembered (for tests and memory checks).
    public var remembered: Int { order.count }
}
