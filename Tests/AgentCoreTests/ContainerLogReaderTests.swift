@testable import AgentCore
import Testing

/// The follower's bookkeeping between reconnections: what a resumed stream skips, where the
/// cursor stands, and that masking state and malformed-frame counts carry over correctly.
@Suite struct ContainerLogReaderTests {
    /// One multiplexed frame of a timestamped line, as dockerd writes it.
    static func frame(_ text: String, at second: Int, stream: UInt8 = 1) -> [UInt8] {
        let payload = Array("2026-12-01T10:00:\(second < 10 ? "0" : "")\(second).000000000Z \(text)\n".utf8)
        let n = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)] + payload
    }

    static func at(_ second: Int) -> DockerTimestamp {
        DockerTimestamp(rfc3339: Array("2026-12-01T10:00:\(second < 10 ? "0" : "")\(second).000000000Z".utf8))!
    }

    static let now: @Sendable () -> String = { "2026-12-01T10:00:00Z" }

    @Test func cursorFollowsTheNewestLineAndCountsLinesSharingItsTime() {
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: nil)
        let first = r.feed(Self.frame("a", at: 1) + Self.frame("b", at: 2), now: Self.now)
        #expect(first.pending.map(\.line.text) == ["a", "b"])
        #expect(first.cursor == LogCursor(last: Self.at(2), linesAtLast: 1))
        let second = r.feed(Self.frame("c", at: 2), now: Self.now)
        #expect(second.cursor == LogCursor(last: Self.at(2), linesAtLast: 2))
        #expect(second.pending.allSatisfy { $0.container == "web" })
    }

    /// A reconnection reads from the cursor's time (`since=`): everything before it and as many
    /// lines at it as were delivered are skipped, the rest is new.
    @Test func aResumedStreamSkipsWhatWasDelivered() {
        let cursor = LogCursor(last: Self.at(5), linesAtLast: 2)
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: cursor)
        let replay = Self.frame("old", at: 4) + Self.frame("x", at: 5) + Self.frame("y", at: 5)
            + Self.frame("z", at: 5) + Self.frame("new", at: 6)
        let batch = r.feed(replay, now: Self.now)
        #expect(batch.pending.map(\.line.text) == ["z", "new"])
        #expect(batch.cursor == LogCursor(last: Self.at(6), linesAtLast: 1))
    }

    @Test func resumingFromTheCursorTakesOnlyTheLinesNotYetDelivered() {
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: nil)
        _ = r.feed(Self.frame("a", at: 1) + Self.frame("b", at: 3) + Self.frame("c", at: 3), now: Self.now)
        let cursor = try! #require(r.cursor)
        var again = r.resuming(from: cursor)
        // The read without follow from the cursor's time: b and c again, then d the first stream missed.
        let batch = again.feed(Self.frame("b", at: 3) + Self.frame("c", at: 3) + Self.frame("d", at: 3), now: Self.now)
        #expect(batch.pending.map(\.line.text) == ["d"])
        #expect(batch.cursor == LogCursor(last: Self.at(3), linesAtLast: 3))
    }

    /// A private key split across the two reads of a stopped container stays masked: the masking
    /// state is the container's, not the connection's.
    @Test func maskingStateCarriesAcrossTheResumedRead() {
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: nil)
        let opened = r.feed(Self.frame("-----BEGIN RSA PRIVATE KEY-----", at: 1), now: Self.now)
        #expect(opened.pending.count == 1)
        var again = r.resuming(from: r.cursor!)
        let inside = again.feed(Self.frame("MIIEowIBAAKCAQEA", at: 2), now: Self.now)
        #expect(inside.pending.first?.startsInPrivateKey == true)
    }

    @Test func malformedFramesAreReportedOnceEach() {
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: nil)
        var bad = Self.frame("x", at: 1)
        bad[0] = 7 // no such stream
        let first = r.feed(bad, now: Self.now)
        #expect(first.malformedFrames == 1, "counted; its bytes are read as stdout")
        let second = r.feed(Self.frame("y", at: 2), now: Self.now)
        #expect(second.malformedFrames == 0 && second.pending.map(\.line.text) == ["y"])
    }

    @Test func aLastLineWithoutNewlineComesAtTheEnd() {
        var r = ContainerLogReader(container: "t", tty: true, holdBytes: 4096, resume: nil)
        #expect(r.feed(Array("2026-12-01T10:00:01.000000000Z partial".utf8), now: Self.now).pending.isEmpty)
        let end = r.finish(now: Self.now)
        #expect(end.pending.map(\.line.text) == ["partial"])
        #expect(end.cursor?.last == Self.at(1))
    }

    /// A stderr line timestamped before the stdout line that came ahead of it (Docker's two
    /// copiers): delivered, but the cursor stays at the newest time, so the read that resumes
    /// from it gives nothing twice.
    @Test func aLineOutOfTimeOrderNeverMovesTheCursorBack() {
        var r = ContainerLogReader(container: "web", tty: false, holdBytes: 4096, resume: nil)
        let first = r.feed(Self.frame("out-a", at: 3) + Self.frame("out-b", at: 5) + Self.frame("err", at: 4, stream: 2), now: Self.now)
        #expect(first.pending.map(\.line.text) == ["out-a", "out-b", "err"])
        #expect(first.cursor == LogCursor(last: Self.at(5), linesAtLast: 1))
        var again = r.resuming(from: r.cursor!)
        // dockerd's replay `since=` the cursor: the line at 5 again, then a new one.
        let replay = again.feed(Self.frame("out-b", at: 5) + Self.frame("out-c", at: 6), now: Self.now)
        #expect(replay.pending.map(\.line.text) == ["out-c"])
    }
}
