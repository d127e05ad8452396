@testable import AgentCore
import Foundation
import TestSupport
import Testing

/// The decoder on streams recorded from dockerd 20.10 (Tests/Fixtures/docker), fed in every
/// read size from 1 byte up, so frames split across reads, several frames per read, and frames
/// larger than a read are all covered.
@Suite struct DockerLogDecoderTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Paths.fixtures + "/docker/" + name)))
    }

    static func decode(_ bytes: [UInt8], tty: Bool, chunk: Int, hold: Int = 1 << 20) -> ([DockerLogLine], Int) {
        var d = DockerLogDecoder(tty: tty, holdBytes: hold)
        var out: [DockerLogLine] = []
        var i = 0
        while i < bytes.count {
            d.feed(bytes[i..<min(i + chunk, bytes.count)], into: &out)
            i += chunk
        }
        d.finish(into: &out)
        return (out, d.malformedFrames)
    }

    @Test(arguments: [1, 3, 7, 8, 9, 31, 100, 4096, 1 << 20])
    func multiplexedStdoutAndStderr(chunk: Int) throws {
        let (lines, bad) = Self.decode(try Self.fixture("logs-stdout-stderr.mux"), tty: false, chunk: chunk)
        #expect(bad == 0)
        #expect(lines.count == 6)
        for l in lines {
            #expect(!l.bytes.contains(0) && !l.bytes.contains(1) && !l.bytes.contains(10), "no header bytes or newlines leak")
            #expect(l.timestamp != nil)
            let text = l.text
            if l.stream == .stderr { #expect(text.hasPrefix("err ")) } else { #expect(text.hasPrefix("line ") && text.hasSuffix("password=hunter2")) }
        }
        #expect(Set(lines.map(\.stream)) == [.stdout, .stderr])
    }

    @Test(arguments: [1, 5, 4096, 16415, 1 << 20])
    func sixteenKiBSplitsAreJoined(chunk: Int) throws {
        let (lines, _) = Self.decode(try Self.fixture("logs-long-line.mux"), tty: false, chunk: chunk)
        #expect(lines.map { $0.bytes.count } == [40000, 10, 40])
        #expect(lines[0].bytes.allSatisfy { $0 == UInt8(ascii: "a") }, "no timestamp of the 2nd and 3rd part inside the line")
        #expect(lines[1].text == "after long")
    }

    @Test func longLinesAreHeldOnlyUpToTheBoundAndCounted() throws {
        let (lines, _) = Self.decode(try Self.fixture("logs-long-line.mux"), tty: false, chunk: 4096, hold: 5000)
        #expect(lines[0].bytes.count == 5000 && lines[0].droppedBytes == 35000)
        #expect(lines[1].droppedBytes == 0)
    }

    @Test(arguments: [1, 2, 13, 4096])
    func ttyStreamIsRawWithCarriageReturnsStripped(chunk: Int) throws {
        let raw = try Self.fixture("logs-tty.raw")
        #expect(raw.contains(13), "the recording has \\r\\n endings")
        let (lines, bad) = Self.decode(raw, tty: true, chunk: chunk)
        #expect(bad == 0)
        #expect(lines.map(\.text) == ["tty-line"])
        #expect(lines[0].timestamp == DockerTimestamp(rfc3339: Array("2026-11-28T22:50:01.639575316Z".utf8)))
    }

    @Test func ttyStreamDecodedAsMultiplexedWouldBeWrongSoHeadersAreChecked() throws {
        // A raw stream fed to the multiplexed decoder: counted as malformed, never a crash.
        let (_, bad) = Self.decode(try Self.fixture("logs-tty.raw"), tty: false, chunk: 7)
        #expect(bad >= 1)
    }

    @Test func emptyFramesAndLastLineWithoutNewline() {
        var bytes: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0] // empty frame
        let msg = Array("2026-01-01T00:00:00Z tail without newline".utf8)
        bytes += [2, 0, 0, 0, 0, 0, 0, UInt8(msg.count)] + msg
        let (lines, bad) = Self.decode(bytes, tty: false, chunk: 3)
        #expect(bad == 0)
        #expect(lines.map(\.text) == ["tail without newline"] && lines[0].stream == .stderr)
    }

    @Test func timestamps() throws {
        let t = try #require(DockerTimestamp(rfc3339: Array("2026-11-28T22:50:06.9432Z".utf8)))
        #expect(t.nanos == 943_200_000)
        #expect(t.sinceParameter.hasSuffix(".943200000"))
        #expect(t.description == "2026-11-28T22:50:06.943200000Z")
        let whole = try #require(DockerTimestamp(rfc3339: Array("2026-11-28T22:50:06Z".utf8)))
        #expect(whole < t && whole.nanos == 0)
        #expect(DockerTimestamp(timeNano: 1_795_845_191_922_920_727) == DockerTimestamp(seconds: 1_795_845_191, nanos: 922_920_727))
        #expect(DockerTimestamp(rfc3339: Array("not a time".utf8)) == nil)
    }
}

@Suite struct DockerEventModelTests {
    static func events(_ name: String) throws -> [DockerEventMessage] {
        try Paths.fixtureText("docker/" + name).split(separator: "\n").map {
            try JSONDecoder().decode(DockerEventMessage.self, from: Data($0.utf8))
        }
    }

    @Test func dockerdEvents() throws {
        let events = try Self.events("dockerd-20.10-events.jsonl").filter { $0.Type == "container" }
        let actions = Set(events.map(\.baseAction))
        #expect(actions.isSuperset(of: ["create", "start", "die", "destroy", "exec_create", "exec_start", "exec_die"]))
        let exec = try #require(events.first { $0.baseAction == "exec_create" })
        #expect(exec.execCommand == "sh -c echo exec-ok; ps")
        #expect(exec.attributes["execID"] != nil && exec.attributes["name"] == "probe-c1")
        #expect(events.allSatisfy { $0.timestamp != nil })
        #expect(events.map { $0.timestamp! } == events.map { $0.timestamp! }.sorted(), "timeNano orders the stream")
    }

    @Test func podmanEvents() throws {
        let events = try Self.events("podman-4.3-events.jsonl").filter { $0.Type == "container" }
        #expect(Set(events.map(\.baseAction)).isSuperset(of: ["create", "start", "exec", "remove"]))
        #expect(events.first { $0.baseAction == "exec" }?.attributes["execID"] == nil, "podman names no exec: the container's ExecIDs are used")
        #expect(events.first?.attributes["image"]?.hasPrefix("docker.io/") == true)
    }
}
