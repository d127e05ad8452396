import AgentCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// POSTs payloads over one kept-alive HTTP/1.1 connection (http or https) built from NIO's
/// own parts: a client bootstrap, NIOSSL, NIO's HTTP/1.1 codec and `HTTPExchangeHandler`.
/// Certificates are verified against the system roots plus, when given, a private CA from
/// `--ca-file`; the name checked is the URL's host, or its address for an IP literal.
///
/// Not async-http-client (which the Docker client uses): the shipper sends one request at a
/// time to one server, and AHC's pool, request state machines, tracing span, streamed request
/// body and response-body sequence would be about a quarter of the agent's CPU per cycle
/// (docs/BENCHMARKS.md). Here a request is one gathered write and the response one
/// promise, completed on the loop that read it.
public final class HTTPTransport: PayloadTransport {
    let target: HTTPTarget
    let userAgent: String
    let sslContext: NIOSSLContext?
    let group: any EventLoopGroup
    let connectTimeout: TimeAmount
    let requestTimeout: TimeAmount
    /// A connection unused this long is closed before the next request instead of reused.
    static let idleTimeout = TimeAmount.seconds(60)
    /// Response bodies are read and discarded; past this size the connection is not reused.
    static let maxResponseBytes = 64 << 10

    private struct Idle {
        let channel: any Channel
        let since: NIODeadline
    }
    private let idle = NIOLockedValueBox<Idle?>(nil)

    /// `eventLoopGroup`: where the connection lives (the agent passes its `CycleLoop`, so a
    /// response resumes the shipper on the thread that read it); nil uses NIO's shared group.
    public init(url: String, caFile: String?, timeoutSeconds: Double, userAgent: String = "monitoring-agent",
                eventLoopGroup: (any EventLoopGroup)? = nil) throws {
        guard let target = HTTPTarget.parse(url) else {
            throw AgentError(.invalidConfiguration, "server URL must be an http:// or https:// URL with a host",
                             input: URLText.redactingCredentials(url))
        }
        self.target = target
        self.userAgent = userAgent
        if target.tls {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.applicationProtocols = ["http/1.1"]
            if let caFile {
                do {
                    tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
                } catch {
                    throw AgentError(.invalidConfiguration, "cannot load CA certificates", input: caFile, cause: error)
                }
            }
            do {
                sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw AgentError(.invalidConfiguration, "cannot set up TLS", cause: error)
            }
        } else {
            sslContext = nil
        }
        group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
        requestTimeout = timeout
        connectTimeout = min(timeout, .seconds(5))
    }

    public func post(body: [UInt8], headers: [(name: String, value: String)]) async -> TransportResult {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.requestTarget)
        head.headers.reserveCapacity(headers.count + 4)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: userAgent)
        if let authorization = target.authorization { head.headers.add(name: "Authorization", value: authorization) }
        for h in headers { head.headers.add(name: h.name, value: h.value) }
        head.headers.add(name: "Content-Length", value: String(body.count))
        var bytes = ByteBufferAllocator().buffer(capacity: body.count)
        bytes.writeBytes(body)
        do {
            // A kept-alive connection the server closed just before our request (its idle
            // timeout racing ours) fails before any response byte: that one is retried at once
            // on a new connection. The server saw no complete request, and payload_id dedups.
            if let channel = takeIdle() {
                do {
                    return try await exchange(on: channel, head: head, body: bytes)
                } catch HTTPExchangeError.closedBeforeResponse {}
            }
            return try await exchange(on: try await connect(), head: head, body: bytes)
        } catch {
            return .failure(reason: Self.describe(error))
        }
    }

    /// Sends one request and waits for its whole response, bounded by the request timeout and
    /// ended early by task cancellation (graceful shutdown). Keeps the connection for the next
    /// request when both sides allow it.
    private func exchange(on channel: any Channel, head: HTTPRequestHead, body: ByteBuffer) async throws -> TransportResult {
        let promise = channel.eventLoop.makePromise(of: HTTPExchangeHandler.Response.self)
        let timer = channel.eventLoop.scheduleTask(in: requestTimeout) {
            promise.fail(HTTPExchangeError.requestTimeout)
            channel.close(promise: nil)
        }
        // A write that fails (the channel closed between the idle check and the write, or the
        // TLS handshake failed first) ends the exchange at once instead of at the timeout.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail(HTTPExchangeError.classify($0)) }
        channel.writeAndFlush(HTTPExchangeHandler.Request(head: head, body: body, promise: promise), promise: written)
        let response: HTTPExchangeHandler.Response
        do {
            response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
                channel.close(promise: nil)
            }
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        }
        timer.cancel()
        if response.reusable {
            idle.withLockedValue { $0 = Idle(channel: channel, since: .now()) }
        } else {
            channel.close(promise: nil)
        }
        return .response(status: response.status, retryAfter: response.retryAfter, date: response.date)
    }

    /// The kept connection, if it is still open and not idle past `idleTimeout`.
    private func takeIdle() -> (any Channel)? {
        guard let kept = takeKept() else { return nil }
        if kept.channel.isActive, NIODeadline.now() - kept.since < Self.idleTimeout { return kept.channel }
        kept.channel.close(promise: nil)
        return nil
    }

    /// Removes and returns the kept connection (one request at a time owns it).
    private func takeKept() -> Idle? {
        idle.withLockedValue { value in defer { value = nil }; return value }
    }

    private func connect() async throws -> any Channel {
        let target = self.target, sslContext = self.sslContext
        return try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: target.serverName))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(HTTPExchangeHandler(maxBodyBytes: Self.maxResponseBytes))
                }
            }
            .connect(host: target.host, port: target.port)
            .get()
    }

    public func close() async {
        try? await takeKept()?.channel.close()
    }

    /// A short reason for logs: the error's own text, never the URL (it may hold credentials).
    static func describe(_ error: any Error) -> String {
        switch error {
        case HTTPExchangeError.requestTimeout: return "request timeout"
        case HTTPExchangeError.closedBeforeResponse: return "connection closed by server"
        case ChannelError.connectTimeout(_): return "connect timeout"
        case is CancellationError: return "cancelled"
        case let e as NIOConnectionError:
            // One error per address tried; the first says why (refused, unreachable, ...).
            if let first = e.connectionErrors.first { return "connect failed: \(first.error)" }
            if let dns = e.dnsAAAAError ?? e.dnsAError { return "cannot resolve host: \(dns)" }
            return "connect failed"
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: return "TLS: \(error)"
        default: return String(describing: error)
        }
    }
}

enum HTTPExchangeError: Error {
    case requestTimeout
    /// The connection ended before a complete response (a kept-alive one may have been closed
    /// by the server's idle timeout just as the request went out).
    case closedBeforeResponse
    /// A response arrived with no request waiting for it.
    case unsolicitedResponse

    /// Errors that mean "the connection was gone" become `closedBeforeResponse` (a kept
    /// connection failing that way is retried once on a new one); others stay as they are.
    static func classify(_ error: any Error) -> any Error {
        if let e = error as? ChannelError, e == .ioOnClosedChannel || e == .alreadyClosed || e == .outputClosed || e == .eof {
            return HTTPExchangeError.closedBeforeResponse
        }
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            return HTTPExchangeError.closedBeforeResponse
        }
        return error
    }
}

/// One request at a time on one connection: writes the request (head, body, end: one flush,
/// so one gathered write) and completes its promise with the status and the headers the
/// shipper uses once the whole response was read. Body bytes are counted, never kept.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    struct Request: Sendable {
        let head: HTTPRequestHead
        let body: ByteBuffer
        let promise: EventLoopPromise<Response>
    }

    struct Response {
        let status: Int
        let retryAfter: String?
        let date: String?
        /// Keep-alive on both sides and a body small enough to have been read in full.
        let reusable: Bool
    }

    let maxBodyBytes: Int
    private var pending: EventLoopPromise<Response>?
    private var head: HTTPResponseHead?
    private var bodyBytes = 0
    /// An error the connection hit while no request was waiting; a later request fails with it.
    private var earlierError: (any Error)?

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil, earlierError == nil else {
            let error = earlierError ?? ChannelError.inappropriateOperationForState
            request.promise.fail(error)
            promise?.fail(error)
            return
        }
        pending = request.promise
        head = nil
        bodyBytes = 0
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body(let b):
            bodyBytes += b.readableBytes
        case .end:
            guard let h = head else { return }
            head = nil
            if (100..<200).contains(h.status.code) { return } // 100 Continue and the like: the real one follows
            guard let promise = pending else {
                context.fireErrorCaught(HTTPExchangeError.unsolicitedResponse)
                context.close(promise: nil)
                return
            }
            pending = nil
            promise.succeed(Response(status: Int(h.status.code), retryAfter: h.headers.first(name: "Retry-After"),
                                     date: h.headers.first(name: "Date"),
                                     reusable: h.isKeepAlive && bodyBytes <= maxBodyBytes))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPExchangeError.closedBeforeResponse)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or broken pipe before any response: the server dropped the connection.
        let error = head == nil ? HTTPExchangeError.classify(error) : error
        if pending == nil { earlierError = error } // e.g. a TLS handshake that failed before the request came
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard let promise = pending else { return }
        pending = nil
        promise.fail(error)
    }
}
