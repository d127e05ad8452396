import AgentCore
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// How one container log response ended.
struct LogStreamOutcome: Sendable {
    /// The reader with everything the stream delivered (its cursor is the resume point).
    var reader: ContainerLogReader
    /// The response ended by itself with status 200 (the container stopped), not by an error,
    /// a closed connection, a stop or cancellation.
    var endedByItself: Bool
    /// Why it did not end by itself, for the debug log.
    var failure: String?
}

/// Reads one `/containers/{id}/logs` response on the Docker event loop, in the channel's read
/// callback: each chunk the daemon writes (a line, usually) is decoded where it was read, with no
/// task resumed and nothing queued per chunk, and the decoder's hold is all a stream buffers.
/// The read after this one waits until the callback returns, so a slow consumer slows the socket,
/// never grows memory.
///
/// Invariant: `promise` is completed exactly once, with the reader as it stands, whichever of
/// these comes first: the response's end, an error, the connection closing, the handler's
/// removal (a connection that never opened), or no response head within `headTimeout`.
final class LogStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// A peer that accepts the connection and never answers is cut off after this.
    private let headTimeout: TimeAmount

    private var reader: ContainerLogReader
    private let path: String
    private let promise: EventLoopPromise<LogStreamOutcome>
    private let deliver: @Sendable (LogBatch) -> Void
    private let now: @Sendable () -> String
    private let coalescer: ReadCoalescer
    private var status: Int?
    private var done = false
    private var headTimer: Scheduled<Void>?

    init(reader: ContainerLogReader, path: String, promise: EventLoopPromise<LogStreamOutcome>, headTimeout: TimeAmount,
         coalescer: ReadCoalescer,
         now: @escaping @Sendable () -> String, deliver: @escaping @Sendable (LogBatch) -> Void) {
        self.reader = reader
        self.coalescer = coalescer
        self.path = path
        self.promise = promise
        self.headTimeout = headTimeout
        self.now = now
        self.deliver = deliver
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        let timeout = headTimeout
        headTimer = context.eventLoop.scheduleTask(in: timeout) {
            this.value.finish(endedByItself: false, failure: "no response within \(timeout.nanoseconds / 1_000_000) ms")
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(endedByItself: false, failure: "connection closed")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            headTimer?.cancel()
            status = Int(head.status.code)
        case .body(let buffer):
            // An error status's body is not read into anything (and the status says enough).
            guard status == 200 else { return }
            deliver(buffer.withUnsafeReadableBytes { reader.feed($0, now: now) })
        case .end:
            if status == 200 {
                finish(endedByItself: true, failure: nil)
            } else {
                finish(endedByItself: false, failure: DockerError.status(status ?? 0, path: path).description)
            }
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        coalescer.readCompleted()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(endedByItself: false, failure: "connection closed by daemon")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(endedByItself: false, failure: DockerClient.describe(error))
        context.close(promise: nil)
    }

    private func finish(endedByItself: Bool, failure: String?) {
        guard !done else { return }
        done = true
        headTimer?.cancel()
        if status == 200 { deliver(reader.finish(now: now)) }
        promise.succeed(LogStreamOutcome(reader: reader, endedByItself: endedByItself, failure: failure))
    }
}

extension DockerClient {
    /// Reads one container's log response (`DockerClient.logsPath`) on the client's event loop,
    /// handing each batch of lines to `deliver` there, until the response ends, the connection
    /// fails, `stop` is stopped or the calling task is cancelled (both close the connection).
    /// A connection of its own, not the HTTP client's: the per-chunk path of a followed
    /// container is the agent's busiest, and here it is one read callback.
    func readLogs(path: String, reader: ContainerLogReader, headTimeout: TimeAmount = .seconds(30),
                  stop: FollowerStop? = nil, now: @escaping @Sendable () -> String,
                  deliver: @escaping @Sendable (LogBatch) -> Void) async -> LogStreamOutcome {
        let promise = eventLoop.makePromise(of: LogStreamOutcome.self)
        let coalescer = coalescer
        let shortPath = String(path.prefix(while: { $0 != "?" }))
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        LogStreamHandler(reader: reader, path: shortPath, promise: promise, headTimeout: headTimeout,
                                         coalescer: coalescer, now: now, deliver: deliver))
                }
            }
        onRequest()
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(unixDomainSocketPath: socketPath).get()
        } catch {
            // Nothing was read; the handler (if the channel got one) may have completed the
            // promise already, and completing it again is a no-op.
            let outcome = LogStreamOutcome(reader: reader, endedByItself: false, failure: Self.describe(error))
            promise.succeed(outcome)
            return outcome
        }
        stop?.whenStopped { channel.close(promise: nil) }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "docker")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return await withTaskCancellationHandler {
            // The promise is never failed (see LogStreamHandler), so the fallback is unreachable.
            (try? await promise.futureResult.get())
                ?? LogStreamOutcome(reader: reader, endedByItself: false, failure: "stream lost")
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Lets log data pile up between reads while the streams are busy. dockerd writes every log line
/// as a write of its own, so with many containers the loop would wake for nearly every line, and
/// the wake-ups (a context switch each) were the largest share of the agent's CPU. When data comes
/// again within `window` of the previous read, the loop pauses for `window` once its round of
/// reads is done: the next round then finds many lines on many connections, at most
/// 1 s / `window` rounds a second. A quiet host never pauses.
///
/// Used only on the Docker client's own event loop, whose work (these streams, the event stream,
/// the inspections) can wait `window`; no other connection is on that loop. Sendable because its
/// state is touched on that loop only (asserted), as a channel handler's is.
final class ReadCoalescer: @unchecked Sendable {
    let window: TimeAmount
    private let eventLoop: any EventLoop
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    private var pausing = false
    /// Pauses taken (for tests).
    private(set) var pauses = 0

    /// Blocks the loop's thread for the window (injected by tests).
    private let sleep: @Sendable (TimeAmount) -> Void

    init(window: TimeAmount, eventLoop: any EventLoop,
         sleep: @escaping @Sendable (TimeAmount) -> Void = { usleep(UInt32($0.nanoseconds / 1000)) }) {
        self.window = window
        self.eventLoop = eventLoop
        self.sleep = sleep
    }

    /// A connection finished a read on the loop.
    func readCompleted() {
        eventLoop.assertInEventLoop()
        guard !pausing else { return }
        let now = NIODeadline.now()
        defer { lastRead = now }
        guard window.nanoseconds > 0, (now - lastRead) < window else { return }
        pausing = true
        pauses += 1
        // Runs after the loop's current round of I/O: the pause is between rounds.
        eventLoop.execute {
            self.sleep(self.window)
            self.pausing = false
            self.lastRead = .now()
        }
    }
}
