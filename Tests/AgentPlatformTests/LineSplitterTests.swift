import AgentPlatform
import Testing

@Suite struct LineSplitterTests {
    /// Lines split across reads come out whole (the Docker event stream and the tailers rely on it).
    @Test func linesSplitAcrossReads() {
        var s = LineSplitter(maxLineBytes: 1 << 20)
        var lines: [String] = []
        s.feed(Array(#"{"a":1}"#.utf8 + [10] + #"{"b""#.utf8)[...], into: &lines)
        #expect(lines == [#"{"a":1}"#])
        s.feed(Array(#":2}"#.utf8 + [10, 10])[...], into: &lines)
        #expect(lines == [#"{"a":1}"#, #"{"b":2}"#, ""])
    }

    @Test func longLinesAreCut() {
        var s = LineSplitter(maxLineBytes: 4)
        var lines: [String] = []
        s.feed(Array("abcdefgh\nxy\n".utf8)[...], into: &lines)
        #expect(lines == ["abcd", "xy"])
    }
}
