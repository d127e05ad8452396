@testable import AgentDocker
import AgentCore
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The log stream reader against a scripted peer on a unix socket: a well-formed chunked stream,
/// a close-delimited one, an error status, a peer that never answers, bytes that are not HTTP, a
/// missing socket, and a stop in the middle of a stream. Each must end with the lines read so far
/// and the connection closed, never hang or crash.
@Suite struct LogStreamTests {
    /// What the peer saw: the request bytes and whether the client closed the connection.
    final class PeerLog: Sendable {
        let request = Mutex<[UInt8]>([])
        let closed = Mutex(false)
    }

    /// Answers the first request with `parts` (one write and flush each), then closes if asked.
    final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let parts: [[UInt8]]
        let closeAfter: Bool
        let log: PeerLog
        var answered = false

        init(parts: [[UInt8]], closeAfter: Bool, log: PeerLog) {
            self.parts = parts
            self.closeAfter = closeAfter
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            let whole = log.request.withLock { r -> Bool in
                r += bytes
                return r.count >= 4 && Array(r.suffix(4)) == Array("\r\n\r\n".utf8)
            }
            guard whole, !answered else { return }
            answered = true
            for p in parts {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: p)), promise: nil)
            }
            if closeAfter { context.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            log.closed.withLock { $0 = true }
        }
    }

    struct Peer {
        let path: String
        let channel: (any Channel)?
        let log: PeerLog
    }

    static let counter = Atomic<Int>(0)

    static func peer(_ parts: [[UInt8]], closeAfter: Bool = false) async throws -> Peer {
        let path = "/tmp/ma-ls-\(getpid())-\(counter.add(1, ordering: .relaxed).newValue).sock"
        unlink(path)
        let log = PeerLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(Responder(parts: parts, closeAfter: closeAfter, log: log))
                }
            }
            .bind(unixDomainSocketPath: path).get()
        return Peer(path: path, channel: channel, log: log)
    }

    static let head200 = Array("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
    }

    static let lastChunk = Array("0\r\n\r\n".utf8)

    /// Lines delivered, collected from the event loop's callbacks.
    final class Delivered: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ batch: LogBatch) { lines.withLock { $0 += batch.pending.map(\.line.text) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func read(_ peer: Peer, headTimeout: TimeAmount = .seconds(30), stop: FollowerStop? = nil,
                     into delivered: Delivered) async -> LogStreamOutcome {
        let client = DockerClient(socketPath: peer.path)
        let reader = ContainerLogReader(container: "c", tty: false, holdBytes: 4096, resume: nil)
        let path = DockerClient.logsPath("abc", version: "1.41", tail: 10, since: nil)
        let outcome = await client.readLogs(path: path, reader: reader, headTimeout: headTimeout, stop: stop,
                                            now: { "" }) { delivered.add($0) }
        await client.shutdown()
        return outcome
    }

    static func frame(_ text: String, at second: Int) -> [UInt8] {
        let payload = Array("2026-12-01T10:00:0\(second).000000000Z \(text)\n".utf8)
        let n = UInt32(payload.count)
        return [1, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)] + payload
    }

    static func expectClosedByClient(_ peer: Peer) async throws {
        try await eventually(timeout: 30, "the client closed the connection") { peer.log.closed.withLock { $0 } }
        try await peer.channel?.close()
    }

    @Test func aChunkedStreamIsDecodedAcrossChunkBoundaries() async throws {
        let frames = Self.frame("a", at: 1) + Self.frame("b", at: 2) + Self.frame("c", at: 3)
        // Split mid-header and mid-line: the decoder, not the chunking, finds the frames.
        let parts = [Self.head200, Self.chunk(Array(frames[0..<5])), Self.chunk(Array(frames[5..<40])),
                     Self.chunk(Array(frames[40...])), Self.lastChunk]
        let peer = try await Self.peer(parts)
        let delivered = Delivered()
        let outcome = await Self.read(peer, into: delivered)
        #expect(outcome.endedByItself && outcome.failure == nil)
        #expect(delivered.all == ["a", "b", "c"])
        #expect(outcome.reader.cursor?.linesAtLast == 1)
        let request = String(decoding: peer.log.request.withLock { $0 }, as: UTF8.self)
        #expect(request.hasPrefix("GET /v1.41/containers/abc/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=10 HTTP/1.1\r\n"))
        #expect(request.contains("Host: docker\r\n"))
        try await Self.expectClosedByClient(peer)
    }

    @Test func aBodyDelimitedByTheConnectionClosingIsReadToTheEnd() async throws {
        let head = Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8)
        let peer = try await Self.peer([head, Self.frame("x", at: 1), Self.frame("y", at: 2)], closeAfter: true)
        let delivered = Delivered()
        _ = await Self.read(peer, into: delivered)
        #expect(delivered.all == ["x", "y"])
        try await peer.channel?.close()
    }

    @Test func anErrorStatusDeliversNothingAndSaysWhich() async throws {
        let body = #"{"message":"No such container: abc"}"#
        let peer = try await Self.peer([Array("HTTP/1.1 404 Not Found\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)])
        let delivered = Delivered()
        let outcome = await Self.read(peer, into: delivered)
        #expect(!outcome.endedByItself)
        #expect(outcome.failure == "docker API /v1.41/containers/abc/logs: HTTP 404")
        #expect(delivered.all.isEmpty)
        try await Self.expectClosedByClient(peer)
    }

    @Test func aPeerThatNeverAnswersIsCutOff() async throws {
        let peer = try await Self.peer([])
        let outcome = await Self.read(peer, headTimeout: .milliseconds(300), into: Delivered())
        #expect(!outcome.endedByItself)
        #expect(outcome.failure == "no response within 300 ms")
        try await Self.expectClosedByClient(peer)
    }

    @Test(arguments: ["garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
    func bytesThatAreNotHTTPEndTheStreamWithAReason(answer: String) async throws {
        let peer = try await Self.peer([Array(answer.utf8)])
        let outcome = await Self.read(peer, headTimeout: .seconds(5), into: Delivered())
        #expect(!outcome.endedByItself)
        #expect(outcome.failure != nil)
        try await Self.expectClosedByClient(peer)
    }

    @Test func aMissingSocketIsNamed() async {
        let peer = Peer(path: "/tmp/ma-ls-missing-\(getpid()).sock", channel: nil, log: PeerLog())
        let outcome = await Self.read(peer, into: Delivered())
        #expect(!outcome.endedByItself)
        #expect(outcome.failure == "socket missing")
    }

    /// A stop (the follower's task cancelled) ends a stream that is still open: the lines read so
    /// far are kept and the connection is closed.
    @Test func cancellingTheReadClosesTheConnectionAndKeepsWhatWasRead() async throws {
        let peer = try await Self.peer([Self.head200, Self.chunk(Self.frame("first", at: 1))])
        let delivered = Delivered()
        let task = Task { await Self.read(peer, into: delivered) }
        try await eventually(timeout: 30, "the first line read") { delivered.all == ["first"] }
        task.cancel()
        let outcome = await task.value
        #expect(!outcome.endedByItself)
        #expect(outcome.reader.cursor?.linesAtLast == 1)
        try await Self.expectClosedByClient(peer)
    }

    /// A follower's stop (a removed container, the safety net after `die`) closes the stream it
    /// is reading, and one opened after the stop is closed as soon as it connects.
    @Test func aStopClosesTheStreamBeingReadOrAboutToBe() async throws {
        let peer = try await Self.peer([Self.head200, Self.chunk(Self.frame("first", at: 1))])
        let delivered = Delivered()
        let stop = FollowerStop()
        let task = Task { await Self.read(peer, stop: stop, into: delivered) }
        try await eventually(timeout: 30, "the first line read") { delivered.all == ["first"] }
        stop.stop()
        let outcome = await task.value
        #expect(!outcome.endedByItself && outcome.reader.cursor?.linesAtLast == 1)
        try await Self.expectClosedByClient(peer)

        let again = try await Self.peer([Self.head200, Self.chunk(Self.frame("never", at: 2))])
        let none = Delivered()
        let late = await Self.read(again, stop: stop, into: none)
        #expect(!late.endedByItself && none.all.isEmpty)
        try await Self.expectClosedByClient(again)
    }

    /// Busy streams (data again within the window) pause the loop once per round of reads;
    /// a quiet host (reads further apart than the window) never pauses.
    @Test func busyReadsPauseOncePerRoundAndQuietOnesNever() throws {
        let loop = EmbeddedEventLoop()
        let slept = Mutex<[Int64]>([])
        let busy = ReadCoalescer(window: .seconds(10), eventLoop: loop) { d in slept.withLock { $0.append(d.nanoseconds) } }
        busy.readCompleted() // the first read of all: nothing came before it
        #expect(busy.pauses == 0)
        busy.readCompleted()
        busy.readCompleted() // another connection in the same round
        #expect(busy.pauses == 1, "one pause for the round, however many connections read")
        #expect(slept.withLock { $0 }.isEmpty, "the pause comes after the round, not inside a read")
        loop.run()
        #expect(slept.withLock { $0 } == [10_000_000_000])
        busy.readCompleted()
        #expect(busy.pauses == 2, "still busy after the pause")

        let quiet = ReadCoalescer(window: .milliseconds(1), eventLoop: loop)
        for _ in 0..<3 {
            quiet.readCompleted()
            usleep(5000)
        }
        #expect(quiet.pauses == 0)
        let off = ReadCoalescer(window: .zero, eventLoop: loop)
        off.readCompleted()
        off.readCompleted()
        #expect(off.pauses == 0)
        try loop.syncShutdownGracefully()
    }
}
