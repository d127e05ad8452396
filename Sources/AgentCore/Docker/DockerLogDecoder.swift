#if canImport(Glibc)
import Glibc
#endif

/// One log line of a container as read from `/containers/{id}/logs?timestamps=1`.
public struct DockerLogLine: Sendable, Equatable {
    public enum Stream: UInt8, Sendable { case stdin = 0, stdout = 1, stderr = 2 }
    public var stream: Stream
    /// The daemon's receive time of the line (nil when the stream had no timestamp prefix).
    public var timestamp: DockerTimestamp?
    /// The line's bytes without the timestamp prefix and line ending, capped at the decoder's
    /// `maxLineBytes` (the cut happens later, after masking, see `LogLineProcessor`).
    public var bytes: [UInt8]
    /// Bytes of the original line beyond what `bytes` holds.
    public var droppedBytes: Int

    public init(stream: Stream, timestamp: DockerTimestamp?, bytes: [UInt8], droppedBytes: Int = 0) {
        self.stream = stream
        self.timestamp = timestamp
        self.bytes = bytes
        self.droppedBytes = droppedBytes
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Turns the byte stream of the Docker logs endpoint into lines.
///
/// - Non-TTY containers: the stream is multiplexed in frames with an 8-byte header (stream byte,
///   three zero bytes, big-endian UInt32 length). Frames may be split across reads, several may
///   arrive in one read, and one may be larger than a read.
/// - TTY containers: the stream is raw; lines end in `\r\n` (the `\r` is stripped).
/// - With `timestamps=1` every log message starts with an RFC 3339 time and a space. Docker splits
///   lines longer than 16 KiB into several messages that each carry the same time and only the last
///   ends in `\n`; those are joined back into one line.
///
/// Memory is bounded: a line keeps at most `holdBytes` bytes and counts the rest.
public struct DockerLogDecoder: Sendable {
    public let tty: Bool
    public let timestamps: Bool
    public let holdBytes: Int
    private var pending: [UInt8] = []
    /// Frame header being read (multiplexed only).
    private var frameStream: DockerLogLine.Stream = .stdout
    private var frameRemaining = 0
    /// Start of a message: the timestamp prefix is still to be read.
    private var atMessageStart = true
    /// Partial line per stream (Docker's 16 KiB splits, or a frame ending mid-line).
    private var open: [DockerLogLine?] = [nil, nil, nil] // by stream number
    /// Start of a message whose timestamp has not fully arrived yet.
    private var prefix: [UInt8] = []
    /// Frames whose header byte names no known stream.
    public private(set) var malformedFrames = 0

    public init(tty: Bool, timestamps: Bool = true, holdBytes: Int = 4096 + 1024) {
        self.tty = tty
        self.timestamps = timestamps
        self.holdBytes = max(holdBytes, 64)
    }

    /// Feeds bytes as they arrive; complete lines are appended to `out`.
    public mutating func feed(_ bytes: some Collection<UInt8>, into out: inout [DockerLogLine]) {
        if tty {
            pending.append(contentsOf: bytes)
            consumeRaw(into: &out)
        } else {
            pending.append(contentsOf: bytes)
            consumeFrames(into: &out)
        }
    }

    /// Emits what is left (a last line without newline) at the end of the stream.
    public mutating func finish(into out: inout [DockerLogLine]) {
        if tty, !pending.isEmpty {
            let rest = pending
            pending.removeAll()
            message(rest[...], stream: .stdout, into: &out)
        }
        if !prefix.isEmpty, !append([][...], stream: frameStream, final: true, into: &out) {
            complete(frameStream, into: &out)
        }
        for i in [1, 2, 0] {
            if let line = open[i] { out.append(line); open[i] = nil }
        }
        pending.removeAll()
        prefix.removeAll()
        frameRemaining = 0
        atMessageStart = true
    }

    // MARK: - multiplexed

    private mutating func consumeFrames(into out: inout [DockerLogLine]) {
        var i = 0
        let n = pending.count
        while i < n {
            if frameRemaining == 0 {
                guard n - i >= 8 else { break }
                let kind = pending[i]
                let length = Int(pending[i + 4]) << 24 | Int(pending[i + 5]) << 16 | Int(pending[i + 6]) << 8 | Int(pending[i + 7])
                i += 8
                guard let stream = DockerLogLine.Stream(rawValue: kind), pending[i - 7] == 0, pending[i - 6] == 0, pending[i - 5] == 0 else {
                    // Not a frame header: the stream is not multiplexed after all, or corrupt.
                    malformedFrames += 1
                    frameStream = .stdout
                    frameRemaining = length
                    continue
                }
                frameStream = stream
                frameRemaining = length
                atMessageStart = true
                if length == 0 { continue }
            }
            let take = min(frameRemaining, n - i)
            frameBody(pending[i..<(i + take)], into: &out)
            frameRemaining -= take
            i += take
        }
        if i == n { pending.removeAll(keepingCapacity: true) } else if i > 0 { pending.removeFirst(i) }
    }

    /// Part of a frame's payload. A frame is one log message (`TS SP text`), normally ending in `\n`;
    /// a split long line ends without one.
    private mutating func frameBody(_ chunk: ArraySlice<UInt8>, into out: inout [DockerLogLine]) {
        var start = chunk.startIndex
        while start < chunk.endIndex {
            if let nl = Self.newline(in: chunk, from: start) {
                if !append(chunk[start..<nl], stream: frameStream, final: true, into: &out) {
                    complete(frameStream, into: &out)
                }
                atMessageStart = true
                start = nl + 1
            } else {
                append(chunk[start...], stream: frameStream, into: &out)
                return
            }
        }
    }

    /// memchr for `\n` in `chunk[from...]`.
    @inline(__always)
    static func newline(in chunk: ArraySlice<UInt8>, from: Int) -> Int? {
        chunk.withUnsafeBufferPointer { p -> Int? in
            let offset = from - chunk.startIndex
            guard offset < p.count, let base = p.baseAddress,
                  let hit = memchr(base + offset, 10, p.count - offset) else { return nil }
            return chunk.startIndex + base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    // MARK: - raw (TTY)

    private mutating func consumeRaw(into out: inout [DockerLogLine]) {
        var start = 0
        while let nl = Self.newline(in: pending[...], from: start) {
            message(pending[start..<nl], stream: .stdout, into: &out)
            start = nl + 1
        }
        if start > 0 { pending.removeFirst(start) }
        // Bound an endless line without newline: hand the held part over as a partial message.
        if pending.count > holdBytes * 2 {
            let chunk = pending
            pending.removeAll(keepingCapacity: true)
            append(chunk[...], stream: .stdout, into: &out)
        }
    }

    private mutating func message(_ body: ArraySlice<UInt8>, stream: DockerLogLine.Stream, into out: inout [DockerLogLine]) {
        atMessageStart = true
        if !append(body, stream: stream, final: true, into: &out) {
            complete(stream, into: &out)
        }
    }

    // MARK: - shared

    /// Appends message bytes to the stream's open line, reading the timestamp prefix first. The
    /// prefix may arrive split across reads: it is gathered until its space (or the line's end,
    /// `final`) is seen.
    /// Returns true when it emitted the whole line itself (a complete message with no open
    /// partial: the common case, done without touching the per-stream state).
    @discardableResult
    private mutating func append(_ bytes: ArraySlice<UInt8>, stream: DockerLogLine.Stream, final: Bool = false,
                                 into out: inout [DockerLogLine]) -> Bool {
        var body = bytes
        var ts: DockerTimestamp?
        if atMessageStart {
            if timestamps {
                var gathered: ArraySlice<UInt8>
                if prefix.isEmpty {
                    gathered = body
                } else {
                    prefix.append(contentsOf: body)
                    gathered = prefix[...]
                }
                let space = gathered.prefix(Self.maxPrefix + 1).firstIndex(of: 32)
                if space == nil, gathered.count <= Self.maxPrefix, !final {
                    if prefix.isEmpty { prefix.append(contentsOf: body) }
                    return false // wait for the rest of the timestamp
                }
                if let sp = space, let t = DockerTimestamp(rfc3339: gathered[gathered.startIndex..<sp]) {
                    ts = t
                    gathered = gathered[(sp + 1)...]
                }
                body = gathered
                prefix = []
            }
            atMessageStart = false
        }
        let k = Int(stream.rawValue)
        if final, open[k] == nil {
            var line = DockerLogLine(stream: stream, timestamp: ts, bytes: [])
            hold(body, in: &line)
            if line.bytes.last == 13 { line.bytes.removeLast() }
            out.append(line)
            return true
        }
        if open[k] != nil {
            hold(body, in: &open[k]!)
        } else {
            var line = DockerLogLine(stream: stream, timestamp: ts, bytes: [])
            line.bytes.reserveCapacity(min(body.count, holdBytes))
            hold(body, in: &line)
            open[k] = line
        }
        return false
    }

    /// Longest timestamp prefix looked for ("2026-11-28T22:50:06.943219372+00:00" is 35 bytes).
    static let maxPrefix = 40

    private func hold(_ body: ArraySlice<UInt8>, in line: inout DockerLogLine) {
        let room = holdBytes - line.bytes.count
        if body.count <= room {
            line.bytes.append(contentsOf: body)
        } else {
            line.bytes.append(contentsOf: body.prefix(max(room, 0)))
            line.droppedBytes += body.count - max(room, 0)
        }
    }

    private mutating func complete(_ stream: DockerLogLine.Stream, into out: inout [DockerLogLine]) {
        let k = Int(stream.rawValue)
        var taken: DockerLogLine?
        swap(&taken, &open[k]) // move out without a copy
        guard var line = taken else {
            out.append(DockerLogLine(stream: stream, timestamp: nil, bytes: []))
            return
        }
        if line.bytes.last == 13 { line.bytes.removeLast() }
        out.append(line)
    }
}
