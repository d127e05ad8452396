/// Where a container's log stream stopped: its last timestamp and how many lines carried it.
public struct LogCursor: Sendable, Equatable {
    public var last: DockerTimestamp
    public var linesAtLast: Int

    public init(last: DockerTimestamp, linesAtLast: Int) {
        self.last = last
        self.linesAtLast = linesAtLast
    }
}

/// What one read of a container's log stream produced, ready for `DockerActivity.add`.
public struct LogBatch: Sendable {
    public var pending: [PendingLogLine] = []
    public var statuses = HTTPStatusCounts()
    public var malformedFrames = 0
    /// The newest line delivered so far (the resume point), nil until a timestamped line came.
    public var cursor: LogCursor?
}

/// One container's log stream turned into lines for the payload: decodes the bytes, skips what a
/// previous stream already delivered (every line before the resume cursor, and as many lines at
/// its timestamp as carried it), tracks the new cursor, and tags each line for masking.
///
/// Invariant: a line is handed out at most once across reconnections, as long as each new stream
/// starts from `cursor` (`since=` the cursor's time) with a reader made by `resuming(from:)`.
public struct ContainerLogReader: Sendable {
    private let container: String
    private let tty: Bool
    private let holdBytes: Int
    private var decoder: DockerLogDecoder
    private var intake: LogIntake
    private var resume: LogCursor?
    private var skipAtLast: Int
    public private(set) var cursor: LogCursor?
    private var reportedFrames = 0
    private var lines: [DockerLogLine] = []

    public init(container: String, tty: Bool, holdBytes: Int, resume: LogCursor?) {
        self.container = container
        self.tty = tty
        self.holdBytes = holdBytes
        decoder = DockerLogDecoder(tty: tty, timestamps: true, holdBytes: holdBytes)
        intake = LogIntake(container: container)
        self.resume = resume
        skipAtLast = resume?.linesAtLast ?? 0
        cursor = resume
    }

    /// A reader for a new stream from `cursor` on: the lines at the cursor's time already
    /// delivered are skipped. The masking state carries over (a private key spanning both reads).
    public func resuming(from cursor: LogCursor) -> ContainerLogReader {
        var next = self
        next.decoder = DockerLogDecoder(tty: tty, timestamps: true, holdBytes: holdBytes)
        next.resume = cursor
        next.skipAtLast = cursor.linesAtLast
        next.cursor = cursor
        next.reportedFrames = 0
        next.lines.removeAll()
        return next
    }

    /// Feeds bytes as they arrive; the lines they completed.
    public mutating func feed(_ bytes: some Collection<UInt8>, now: () -> String) -> LogBatch {
        decoder.feed(bytes, into: &lines)
        return take(now: now)
    }

    /// The end of the stream: the last line if it had no line ending.
    public mutating func finish(now: () -> String) -> LogBatch {
        decoder.finish(into: &lines)
        return take(now: now)
    }

    private mutating func take(now: () -> String) -> LogBatch {
        var batch = LogBatch()
        if !lines.isEmpty {
            var fresh: [DockerLogLine] = []
            fresh.reserveCapacity(lines.count)
            for line in lines {
                if let ts = line.timestamp {
                    if let resume {
                        if ts < resume.last { continue }
                        if ts == resume.last, skipAtLast > 0 { skipAtLast -= 1; continue }
                    }
                    // The cursor only moves forward. stdout and stderr are timestamped by separate
                    // copiers, so a line can come after one with a later time; moving the cursor
                    // back to it would make the next stream (`since=` the cursor) deliver the
                    // later lines a second time.
                    if let c = cursor, ts <= c.last {
                        if ts == c.last { cursor!.linesAtLast += 1 }
                    } else {
                        cursor = LogCursor(last: ts, linesAtLast: 1)
                    }
                }
                fresh.append(line)
            }
            lines.removeAll(keepingCapacity: true)
            intake.take(fresh, now: now, into: &batch.pending, statuses: &batch.statuses)
        }
        batch.malformedFrames = decoder.malformedFrames - reportedFrames
        reportedFrames = decoder.malformedFrames
        batch.cursor = cursor
        return batch
    }
}
