import AgentCore
import AgentPlatform
import Synchronization

/// The receiver's embedded store: verified payloads appended (fsync'd) to `payloads.jsonl` in
/// its data directory, and the set of payload_ids seen, rebuilt from that file at start. So a
/// payload delivered twice (an agent retry whose first answer was lost, or a replay after a
/// crash) is stored and printed once, across receiver restarts too.
public final class ReceiverStore: Sendable {
    struct State {
        var fd: Int32
        var ids: Set<String>
    }
    private let state: Mutex<State>
    public let path: String
    /// Lines skipped at start (a torn last write, garbage).
    public let corruptAtOpen: Int

    public init(directory: String) throws {
        try FileOps.makeDirectory(directory)
        path = directory + "/payloads.jsonl"
        var ids = Set<String>()
        var corrupt = 0
        if (try? FileOps.size(path)) != nil {
            let bytes = try FileOps.readAll(path)
            let scan = SegmentScanner.scan(bytes)
            for r in scan.records { ids.insert(r.payloadID) }
            corrupt = scan.corrupt
            if scan.tornTail { try FileOps.truncate(path, to: scan.cleanLength) }
        }
        corruptAtOpen = corrupt
        state = Mutex(State(fd: try FileOps.openAppend(path), ids: ids))
    }

    public var count: Int { state.withLock { $0.ids.count } }

    public func contains(_ id: String) -> Bool { state.withLock { $0.ids.contains(id) } }

    /// Stores the payload unless its id is known. Returns false for a duplicate. Durable on return.
    public func insert(id: String, body: [UInt8]) throws -> Bool {
        try state.withLock { s in
            if s.ids.contains(id) { return false }
            try FileOps.writeAll(s.fd, body + [0x0A], path: path)
            try FileOps.sync(s.fd, path: path)
            s.ids.insert(id)
            return true
        }
    }
}
