import AgentCore
import AgentPlatform
import DequeModule
#if canImport(Glibc)
import Glibc
#endif

/// Settings of the disk queue.
public struct DiskQueueConfiguration: Sendable {
    /// Directory holding `queue_<sequence>.jsonl` segments and the `cursor` file.
    public var directory: String
    /// A segment is closed and a new one started past this size.
    public var segmentBytes: Int
    /// Total bytes of all segments; past it the oldest segment is dropped.
    public var maxBytes: Int
    /// fsync each record before it counts as queued. Only benchmarks that build a backlog turn it off.
    public var fsyncEachRecord: Bool

    public init(directory: String, segmentBytes: Int = 1 << 20, maxBytes: Int = 100 << 20, fsyncEachRecord: Bool = true) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.maxBytes = maxBytes
        self.fsyncEachRecord = fsyncEachRecord
    }
}

/// A write-ahead queue of payloads on disk: append-only segments, one payload per line, an
/// acknowledged position in `cursor`. A record is durable (fsync'd, and the directory entry of a
/// new segment too) before `append` returns; it leaves the queue only through `removeFirst`.
/// Recovery skips and counts corrupt lines and truncates a torn last line.
public final class DiskQueue: PayloadQueue {
    struct Segment {
        let seq: UInt64
        let path: String
        var size: Int
        /// Records not yet acknowledged.
        var pending: Int
        /// Loaded only for the head segment: the unacknowledged records in order.
        var refs: Deque<RecordRef>?
    }

    public let configuration: DiskQueueConfiguration
    private var segments: Deque<Segment> = []
    private var tailFD: Int32 = -1
    private var cursorFD: Int32 = -1
    private var nextSeq: UInt64 = 1
    public private(set) var count = 0
    public private(set) var byteCount = 0
    public private(set) var droppedCount = 0
    public private(set) var corruptCount = 0
    /// The record appended last, kept so the shipper's `first()` right after `append` (the
    /// usual cycle: one payload queued, then sent) needs no open + pread + close of the segment.
    private var lastAppended: (seq: UInt64, offset: Int, payload: EncodedPayload)?
    /// Called with (segment path, records dropped) when the byte bound drops a segment.
    public var onDrop: ((String, Int) -> Void)?

    var dir: String { configuration.directory }
    var cursorPath: String { dir + "/cursor" }
    var effectiveSegmentBytes: Int { max(1, min(configuration.segmentBytes, configuration.maxBytes / 4)) }

    /// Opens the queue, recovering whatever a previous run (or crash) left.
    public init(configuration: DiskQueueConfiguration) throws {
        self.configuration = configuration
        try FileOps.makeDirectory(configuration.directory)
        try recover()
    }

    deinit {
        if tailFD >= 0 { close(tailFD) }
        if cursorFD >= 0 { close(cursorFD) }
    }

    static func segmentName(_ seq: UInt64) -> String {
        let digits = String(seq)
        return "queue_" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".jsonl"
    }

    static func parseSegmentName(_ name: String) -> UInt64? {
        guard name.hasPrefix("queue_"), name.hasSuffix(".jsonl") else { return nil }
        return UInt64(name.dropFirst(6).dropLast(6))
    }

    // MARK: Recovery

    private func recover() throws {
        let seqs = try FileOps.list(dir).compactMap(Self.parseSegmentName).sorted()
        let (cursorSeq, cursorOffset) = readCursor()
        for seq in seqs {
            let path = dir + "/" + Self.segmentName(seq)
            if seq < cursorSeq {
                try FileOps.remove(path) // fully acknowledged before a crash; its removal was lost
                continue
            }
            let bytes = try FileOps.readAll(path)
            let start = seq == cursorSeq ? min(cursorOffset, bytes.count) : 0
            let scan = SegmentScanner.scan(bytes, startingAt: start)
            corruptCount += scan.corrupt
            var size = bytes.count
            if scan.tornTail {
                try FileOps.truncate(path, to: scan.cleanLength) // so new appends start on a clean line
                size = scan.cleanLength
            }
            if scan.records.isEmpty {
                try FileOps.remove(path) // empty, or only corrupt lines (already counted)
                continue
            }
            let isHead = segments.isEmpty
            segments.append(Segment(seq: seq, path: path, size: size, pending: scan.records.count,
                                    refs: isHead ? Deque(scan.records) : nil))
            count += scan.records.count
            byteCount += size
        }
        // Never reuse a sequence at or below the cursor: recovery would take such a segment
        // for an acknowledged one and delete it (the cursor outlives an emptied queue).
        nextSeq = max((seqs.last ?? 0) + 1, cursorSeq)
        if let last = segments.last, last.size < effectiveSegmentBytes {
            tailFD = try FileOps.openAppend(last.path)
        }
    }

    private func readCursor() -> (UInt64, Int) {
        guard let bytes = try? FileOps.readAll(cursorPath) else { return (0, 0) }
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let seq = UInt64(parts[0]), let off = Int(parts[1]) else {
            corruptCount += 1
            return (0, 0)
        }
        return (seq, off)
    }

    /// The cursor is one fixed-width record ("seq offset", space-padded to 48 bytes) rewritten in
    /// place with one pwrite on a descriptor kept open, instead of open + write + close + rename
    /// per acknowledgement (those would be about 15 % of a cycle's CPU). It is not fsync'd:
    /// after a power loss it may point a little back, so some delivered payloads are sent again
    /// and the receiver drops them by payload_id. 48 bytes at offset 0 lie in one disk sector, so
    /// the record is old or new, not torn; an unreadable cursor is counted as corrupt and delivery
    /// restarts at the oldest segment. Records themselves are always fsync'd, so nothing is lost.
    private func writeCursor(seq: UInt64, offset: Int) throws {
        if cursorFD < 0 { cursorFD = try FileOps.openReadWrite(cursorPath) }
        var record = Array("\(seq) \(offset)".utf8)
        record += repeatElement(UInt8(ascii: " "), count: max(0, Self.cursorRecordBytes - 1 - record.count))
        record.append(UInt8(ascii: "\n"))
        try FileOps.pwriteAll(cursorFD, record, at: 0, path: cursorPath)
    }

    static let cursorRecordBytes = 48

    // MARK: PayloadQueue

    public func append(_ payload: EncodedPayload) throws {
        let line = payload.body + [0x0A]
        try makeRoom(for: line.count)
        if tailFD < 0 || (segments.last?.size ?? 0) >= effectiveSegmentBytes {
            try startSegment()
        }
        let tailIndex = segments.count - 1
        let path = segments[tailIndex].path
        let offset = segments[tailIndex].size
        do {
            try FileOps.writeAll(tailFD, line, path: path)
            if configuration.fsyncEachRecord { try FileOps.sync(tailFD, path: path) }
        } catch {
            try? FileOps.truncate(path, to: offset) // never leave half a record behind
            throw error
        }
        lastAppended = (segments[tailIndex].seq, offset, payload)
        segments[tailIndex].size += line.count
        segments[tailIndex].pending += 1
        segments[tailIndex].refs?.append(RecordRef(offset: offset, length: payload.body.count, payloadID: payload.id))
        count += 1
        byteCount += line.count
    }

    public func first() throws -> EncodedPayload? {
        try loadHeadIfNeeded()
        guard let head = segments.first, let ref = head.refs?.first else { return nil }
        if let last = lastAppended, last.seq == head.seq, last.offset == ref.offset, last.payload.id == ref.payloadID {
            return last.payload
        }
        return EncodedPayload(id: ref.payloadID, body: try FileOps.pread(head.path, offset: ref.offset, length: ref.length))
    }

    public func removeFirst(ifID id: String) throws {
        try loadHeadIfNeeded()
        guard var head = segments.first, let ref = head.refs?.first, ref.payloadID == id else { return }
        head.refs!.removeFirst()
        head.pending -= 1
        count -= 1
        let nextOffset = ref.offset + ref.length + 1
        if head.pending == 0, segments.count == 1, tailFD >= 0, head.size < effectiveSegmentBytes {
            // The only segment, fully acknowledged, is the one being written: empty it in place.
            // Deleting and re-creating it cost an open, an unlink and a directory fsync (a device
            // flush) on every cycle. Cursor first: a crash between the two can only re-send
            // acknowledged payloads, which the receiver drops by payload_id.
            try writeCursor(seq: head.seq, offset: 0)
            try FileOps.truncate(tailFD, to: 0, path: head.path)
            lastAppended = nil
            byteCount -= head.size
            head.size = 0
            head.refs = []
            segments[0] = head
        } else if head.pending == 0 {
            // Whole segment acknowledged: point the cursor past it, then delete it.
            segments.removeFirst()
            byteCount -= head.size
            if segments.isEmpty, tailFD >= 0 { close(tailFD); tailFD = -1 }
            try writeCursor(seq: segments.first?.seq ?? nextSeq, offset: 0)
            try FileOps.remove(head.path)
        } else {
            segments[0] = head
            try writeCursor(seq: head.seq, offset: nextOffset)
        }
    }

    // MARK: Internals

    private func loadHeadIfNeeded() throws {
        // Drop fully acknowledged leading segments left by an earlier step.
        while let head = segments.first, head.pending == 0, segments.count > 1 {
            segments.removeFirst()
            byteCount -= head.size
            try FileOps.remove(head.path)
        }
        guard let head = segments.first, head.refs == nil else { return }
        let scan = SegmentScanner.scan(try FileOps.readAll(head.path))
        segments[0].refs = Deque(scan.records.suffix(head.pending))
    }

    private func startSegment() throws {
        if tailFD >= 0 { close(tailFD); tailFD = -1 }
        let seq = nextSeq
        let path = dir + "/" + Self.segmentName(seq)
        tailFD = try FileOps.openAppend(path)
        nextSeq += 1
        try FileOps.syncDirectory(dir) // the new entry survives a crash
        segments.append(Segment(seq: seq, path: path, size: 0, pending: 0, refs: segments.isEmpty ? [] : nil))
    }

    /// Drops whole oldest segments until `incoming` more bytes fit under the bound. The segment
    /// being written is closed first when it is the only one, so it can be dropped too.
    private func makeRoom(for incoming: Int) throws {
        while byteCount + incoming > configuration.maxBytes {
            if segments.count == 1, segments[0].size > 0 {
                try startSegment()
            }
            guard segments.count > 1 else { return }
            let victim = segments.removeFirst()
            byteCount -= victim.size
            count -= victim.pending
            droppedCount += victim.pending
            try FileOps.remove(victim.path)
            try writeCursor(seq: segments[0].seq, offset: 0)
            onDrop?(victim.path, victim.pending)
        }
    }
}
