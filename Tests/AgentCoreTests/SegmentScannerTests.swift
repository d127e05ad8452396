@testable import AgentCore
import Testing

@Suite struct SegmentScannerTests {
    func line(_ id: String) -> String { #"{"payload_id":"\#(id)","x":1}"# + "\n" }

    @Test func findsRecordsWithOffsets() {
        let text = line("a") + line("b")
        let s = SegmentScanner.scan(Array(text.utf8))
        #expect(s.records.map(\.payloadID) == ["a", "b"])
        #expect(s.records[1].offset == line("a").utf8.count)
        #expect(s.records[0].length == line("a").utf8.count - 1)
        #expect(s.corrupt == 0 && !s.tornTail && s.cleanLength == text.utf8.count)
    }

    @Test func skipsGarbageAndCountsTornTail() {
        let text = line("a") + "garbage here\n" + #"{"no_id":1}"# + "\n" + line("b") + #"{"payload_id":"c","x"#
        let s = SegmentScanner.scan(Array(text.utf8))
        #expect(s.records.map(\.payloadID) == ["a", "b"], "a good record after garbage is kept")
        #expect(s.corrupt == 3 && s.tornTail)
        #expect(s.cleanLength == text.utf8.count - #"{"payload_id":"c","x"#.utf8.count)
    }

    @Test func startOffsetAndEmptyInput() {
        let text = line("a") + line("b")
        let s = SegmentScanner.scan(Array(text.utf8), startingAt: line("a").utf8.count)
        #expect(s.records.map(\.payloadID) == ["b"])
        #expect(SegmentScanner.scan([UInt8]()) == SegmentScan())
        #expect(SegmentScanner.scan(Array("\n\n".utf8)).corrupt == 0, "blank lines are not records and not corrupt")
    }
}

@Suite struct ReplayGuardTests {
    @Test func refusesTheSameSignatureWithinTheWindow() {
        var g = ReplayGuard(windowSeconds: 300)
        let first = g.admit(signature: "s1", timestamp: 1000, now: 1000)
        let replay = g.admit(signature: "s1", timestamp: 1000, now: 1200)
        let other = g.admit(signature: "s2", timestamp: 1000, now: 1200)
        let expired = g.admit(signature: "s1", timestamp: 1000, now: 1301)
        #expect(first && !replay && other)
        #expect(expired, "expired with its timestamp's window")
    }

    @Test func memoryIsBounded() {
        var g = ReplayGuard(windowSeconds: 300, capacity: 100)
        for i in 0..<10_000 { _ = g.admit(signature: "s\(i)", timestamp: 1000, now: 1000) }
        #expect(g.count <= 100)
    }
}
