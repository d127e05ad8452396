import AgentCore
@testable import AgentShipping
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The shipper's HTTP/1.1 client against a real server (Tests/Support/scripted_http_server.py)
/// whose connection behaviour each test picks: reuse, server-side closes, stale connections,
/// bodies, 1xx, headers, timeouts, refusals and cancellation.
@Suite(.serialized) struct HTTPTransportTests {
    struct Seen: Decodable {
        let conn: Int
        let line: String
        let headers: [String: String]
        let body_bytes: Int
    }

    final class Server {
        let peer: Peer
        let port: Int

        init(_ mode: String) async throws {
            let dir = Paths.tempDir("http-\(mode)")
            peer = try Peer("http-\(mode)", "/usr/bin/env", ["python3", Paths.support + "/scripted_http_server.py", mode], dir: dir)
            port = try await peer.waitReadyPort("scripted server ready")
        }

        var requests: [Seen] {
            peer.stdout.split(separator: "\n").dropFirst().compactMap { try? JSONDecoder().decode(Seen.self, from: Data($0.utf8)) }
        }
    }

    let body = Array(#"{"payload_id":"p1","score":0}"#.utf8)
    let headers: [(name: String, value: String)] = [
        ("Content-Type", "application/json"), ("X-Agent-Timestamp", "1736937000"), ("X-Agent-Signature", "sha256=abc"),
    ]

    func transport(_ url: String, timeout: Double = 5) throws -> HTTPTransport {
        try HTTPTransport(url: url, caFile: nil, timeoutSeconds: timeout, userAgent: "monitoring-agent/test")
    }

    @Test func keepsOneConnectionAliveAndSendsTheRequestAsGiven() async throws {
        let server = try await Server("keepalive")
        let t = try transport("http://127.0.0.1:\(server.port)/v1/ingest?tenant=a#ignored")
        for _ in 0..<5 {
            #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil))
        }
        await t.close()
        let seen = server.requests
        #expect(seen.count == 5)
        #expect(Set(seen.map(\.conn)).count == 1, "one connection for five requests")
        let r = try #require(seen.first)
        #expect(r.line == "POST /v1/ingest?tenant=a HTTP/1.1")
        #expect(r.headers["host"] == "127.0.0.1:\(server.port)" && r.headers["user-agent"] == "monitoring-agent/test")
        #expect(r.headers["content-length"] == "\(body.count)" && r.body_bytes == body.count)
        #expect(r.headers["x-agent-timestamp"] == "1736937000" && r.headers["x-agent-signature"] == "sha256=abc")
        #expect(r.headers["content-type"] == "application/json" && r.headers["authorization"] == nil)
        #expect(r.headers["transfer-encoding"] == nil)
    }

    @Test func opensANewConnectionWhenTheServerClosesAfterEachResponse() async throws {
        let server = try await Server("close")
        let t = try transport("http://127.0.0.1:\(server.port)/")
        for _ in 0..<3 { #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil)) }
        #expect(Set(server.requests.map(\.conn)).count == 3)
    }

    /// The server drops a kept-alive connection just as it is reused: the request is sent again
    /// at once on a new connection, and the caller sees only the answer, not a failure.
    @Test func retriesOnceOnANewConnectionWhenAKeptConnectionWasDropped() async throws {
        let server = try await Server("close-second")
        let t = try transport("http://127.0.0.1:\(server.port)/")
        for _ in 0..<3 { #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil)) }
        let seen = server.requests
        #expect(seen.count == 5, "first on conn 1, then each later one twice: dropped, then answered")
        #expect(Set(seen.map(\.conn)).count == 3)
    }

    @Test func noticesAConnectionTheServerClosedWhileIdle() async throws {
        let server = try await Server("idle-close")
        let t = try transport("http://127.0.0.1:\(server.port)/")
        #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil))
        try await Task.sleep(for: .milliseconds(800)) // the server closes after 0.3 s idle
        #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil))
        #expect(server.requests.map(\.conn) == [1, 2], "the closed connection was not written to")
    }

    @Test func readsBodiesWithoutKeepingThemAndReusesOnlyWhatWasReadInFull() async throws {
        let big = try await Server("big-body")
        let t = try transport("http://127.0.0.1:\(big.port)/")
        for _ in 0..<2 { #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil)) }
        #expect(big.requests.map(\.conn) == [1, 2], "a 100 KB answer (over 64 KB) is not worth a kept connection")

        let chunked = try await Server("chunked")
        let c = try transport("http://127.0.0.1:\(chunked.port)/")
        for _ in 0..<2 { #expect(await c.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil)) }
        #expect(chunked.requests.map(\.conn) == [1, 1])

        let cont = try await Server("continue")
        let k = try transport("http://127.0.0.1:\(cont.port)/")
        #expect(await k.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil), "100 Continue skipped")
    }

    @Test func passesRetryAfterAndDateToTheShipper() async throws {
        let server = try await Server("status-503")
        let t = try transport("http://127.0.0.1:\(server.port)/")
        #expect(await t.post(body: body, headers: headers)
            == .response(status: 503, retryAfter: "7", date: "Wed, 15 Jan 2025 10:30:00 GMT"))
    }

    @Test func sendsCredentialsFromTheURLAsBasicAuthorization() async throws {
        let server = try await Server("keepalive")
        let t = try transport("http://ingest:s%3Acret@127.0.0.1:\(server.port)/")
        #expect(await t.post(body: body, headers: headers) == .response(status: 200, retryAfter: nil, date: nil))
        #expect(server.requests.first?.headers["authorization"] == "Basic " + Data("ingest:s:cret".utf8).base64EncodedString())
    }

    @Test func failuresAreShortAndNeverNameTheURL() async throws {
        let port = freePort() // nothing listens
        let t = try transport("http://ingest:hunter2@127.0.0.1:\(port)/secret-path")
        guard case .failure(let reason) = await t.post(body: body, headers: headers) else {
            Issue.record("a refused connection answered"); return
        }
        #expect(reason.contains("connect failed") && reason.lowercased().contains("refused"), "\(reason)")
        #expect(!reason.contains("hunter2") && !reason.contains("secret-path") && !reason.contains("\(port)"), "\(reason)")
        #expect(throws: AgentError.self) { try HTTPTransport(url: "ftp://h/", caFile: nil, timeoutSeconds: 1) }
    }

    @Test func boundsEachRequestByTheTimeoutAndStopsOnCancellation() async throws {
        let server = try await Server("silent")
        let t = try transport("http://127.0.0.1:\(server.port)/", timeout: 0.5)
        let started = ContinuousClock.now
        #expect(await t.post(body: body, headers: headers) == .failure(reason: "request timeout"))
        // Bounds far from both the 0.5 s timeout and the 30 s one below, so that a loaded machine
        // that is slow to run the task cannot fail them, and a request that is not bounded does.
        #expect(ContinuousClock.now - started < .seconds(15))

        let slow = try transport("http://127.0.0.1:\(server.port)/", timeout: 30)
        let task = Task { await slow.post(body: body, headers: headers) }
        try await eventually(timeout: 5, "request reached the server") { server.requests.count >= 2 }
        let cancelled = ContinuousClock.now
        task.cancel()
        #expect(await task.value == .failure(reason: "cancelled"))
        #expect(ContinuousClock.now - cancelled < .seconds(15))
    }
}

/// `HTTPExchangeHandler` on NIO's EmbeddedChannel: the orderings a real server rarely produces
/// on demand (an error before the request, a close with a request waiting, 1xx, oversized bodies).
@Suite struct HTTPExchangeHandlerTests {
    struct Boom: Error {}

    func setUp(maxBodyBytes: Int = 10) throws -> (EmbeddedChannel, EventLoopPromise<HTTPExchangeHandler.Response>) {
        let channel = EmbeddedChannel(handler: HTTPExchangeHandler(maxBodyBytes: maxBodyBytes))
        return (channel, channel.eventLoop.makePromise())
    }

    func request(_ promise: EventLoopPromise<HTTPExchangeHandler.Response>) -> HTTPExchangeHandler.Request {
        HTTPExchangeHandler.Request(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"),
                                    body: ByteBuffer(string: "{}"), promise: promise)
    }

    final class Box<T>: @unchecked Sendable { var value: Result<T, any Error>? }

    /// The future's result if it has completed, without waiting (nil: still pending, so a
    /// missing completion fails the test instead of hanging it).
    func outcome<T>(_ future: EventLoopFuture<T>) throws -> T {
        let box = Box<T>()
        future.whenComplete { box.value = $0 }
        return try #require(box.value, "still pending").get()
    }

    func respond(_ channel: EmbeddedChannel, _ status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Int = 0) throws {
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        if body > 0 { try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(repeating: 0x61, count: body))) }
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
    }

    @Test func completesWithTheFinalResponseAfterInformationalOnes() throws {
        let (channel, promise) = try setUp()
        try channel.writeOutbound(request(promise))
        #expect(try channel.readOutbound(as: HTTPClientRequestPart.self).map { if case .head = $0 { true } else { false } } == true)
        try respond(channel, .continue)
        try respond(channel, .serviceUnavailable, headers: ["Retry-After": "3", "Date": "Wed, 15 Jan 2025 10:30:00 GMT"], body: 5)
        let r = try outcome(promise.futureResult)
        #expect(r.status == 503 && r.retryAfter == "3" && r.date == "Wed, 15 Jan 2025 10:30:00 GMT" && r.reusable)
    }

    @Test func aBodyOverTheBoundOrConnectionCloseIsNotReused() throws {
        let (big, p1) = try setUp(maxBodyBytes: 10)
        try big.writeOutbound(request(p1))
        try respond(big, .ok, body: 11)
        #expect(try outcome(p1.futureResult).reusable == false)
        let (closing, p2) = try setUp()
        try closing.writeOutbound(request(p2))
        try respond(closing, .ok, headers: ["Connection": "close"])
        #expect(try outcome(p2.futureResult).reusable == false)
    }

    @Test func aConnectionLostWithARequestWaitingFailsIt() throws {
        let (channel, promise) = try setUp()
        try channel.writeOutbound(request(promise))
        channel.pipeline.fireChannelInactive()
        #expect(throws: HTTPExchangeError.self) { try outcome(promise.futureResult) }
    }

    /// An error before any request (a TLS handshake that failed first) fails the request that
    /// follows with that error, not with a timeout.
    @Test func anEarlierErrorFailsTheNextRequest() throws {
        let (channel, promise) = try setUp()
        channel.pipeline.fireErrorCaught(Boom())
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(request(promise), promise: written)
        #expect(throws: Boom.self) { try outcome(promise.futureResult) }
        #expect(throws: (any Error).self) { try outcome(written.futureResult) }
    }

    @Test func goneConnectionErrorsAreClassifiedForTheRetry() {
        for gone: any Error in [ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, IOError(errnoCode: ECONNRESET, reason: "read")] {
            #expect(HTTPExchangeError.classify(gone) as? HTTPExchangeError == .closedBeforeResponse, "\(gone)")
        }
        #expect(HTTPExchangeError.classify(Boom()) is Boom)
    }
}
