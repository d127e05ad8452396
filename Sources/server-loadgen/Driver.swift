import AgentCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request of the run: where it goes and when it was due (its latency counts from then).
struct PlannedRequest {
    let target: Int
    let due: NIODeadline
    let head: HTTPRequestHead
    let body: ByteBuffer
}

/// Sends the run's requests on keep-alive HTTP/1.1 connections of its own, all on one event loop:
/// no task and no thread hop per request, so the generator's own cost per request stays small
/// beside the server's on a machine they share. Requests are released at their due time by a
/// 1 ms tick (open loop): one that finds no idle connection waits in a queue, and the wait counts
/// in its latency. A connection that closes or errs fails its request and is opened again.
final class Driver: @unchecked Sendable {
    let loop: any EventLoop
    let targets: [(host: String, port: Int)]
    let perTarget: Int
    let make: (Int, NIODeadline) -> PlannedRequest
    let total: Int
    /// When requests start to be due: set once every connection is open.
    private var start = NIODeadline.now()
    private var issued = 0
    private var answered = 0
    private var queue: [[PlannedRequest]]
    private var idle: [[Connection]]
    var stats = Stats()
    private var done: EventLoopPromise<Void>
    private var tick: RepeatedTask?
    /// The next request, made but not yet due.
    private var pending: PlannedRequest?
    private var patience = TimeAmount.seconds(60)
    private var giveUp: Scheduled<Void>?

    /// `make(i, start)` builds request i of `total`, due at a time after `start` (never before
    /// request i - 1's).
    init(loop: any EventLoop, targets: [(host: String, port: Int)], connectionsPerTarget: Int, total: Int,
         make: @escaping (Int, NIODeadline) -> PlannedRequest) {
        self.loop = loop
        self.targets = targets
        self.perTarget = connectionsPerTarget
        self.total = total
        self.make = make
        queue = Array(repeating: [], count: targets.count)
        idle = Array(repeating: [], count: targets.count)
        done = loop.makePromise()
    }

    /// Opens every connection, then sends until every request is answered or failed; what is
    /// still unanswered `patience` after the last request was due counts as failed.
    func run(patience: TimeAmount) async throws -> Stats {
        try await loop.submit { () -> EventLoopFuture<Void> in
            self.patience = patience
            let opened = (0..<self.targets.count).flatMap { t in (0..<self.perTarget).map { _ in self.open(t) } }
            return EventLoopFuture.andAllSucceed(opened, on: self.loop)
        }.flatMap { $0 }.get()
        try await loop.submit {
            self.start = .now()
            self.tick = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in self.release() }
        }.get()
        try await done.futureResult.get()
        return try await loop.submit { self.stats }.get()
    }

    private func open(_ target: Int) -> EventLoopFuture<Void> {
        let (host, port) = targets[target]
        return ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.pipeline.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Connection(driver: self, target: target))
                }
            }
            .connect(host: host, port: port)
            .flatMap { channel in channel.pipeline.handler(type: Connection.self) }
            .map { self.becameIdle($0) }
    }

    /// Moves the requests now due to their queues and hands them to idle connections.
    private func release() {
        let now = NIODeadline.now()
        while issued < total {
            if pending == nil { pending = make(issued, start) }
            guard let r = pending, r.due <= now else { break }
            pending = nil
            issued += 1
            queue[r.target].append(r)
            if issued == total { giveUp = loop.scheduleTask(deadline: r.due + patience) { self.abandon() } }
        }
        for t in targets.indices { dispatch(t) }
    }

    private func dispatch(_ target: Int) {
        while !queue[target].isEmpty, let c = idle[target].popLast() {
            c.send(queue[target].removeFirst())
        }
    }

    func becameIdle(_ c: Connection) {
        idle[c.target].append(c)
        dispatch(c.target)
    }

    func finished(_ r: PlannedRequest, _ outcome: Outcome) {
        guard answered < total else { return }
        let now = NIODeadline.now()
        stats.record(outcome, latency: .nanoseconds(Int64((now - r.due).nanoseconds)))
        answered += 1
        if answered == total {
            tick?.cancel()
            giveUp?.cancel()
            done.succeed()
        }
    }

    /// Counts what is still unanswered as failed and ends the run.
    private func abandon() {
        guard answered < total else { return }
        stats.failed += total - answered
        answered = total
        tick?.cancel()
        done.succeed()
    }

    /// A connection closed: its request (if any) failed; a new one takes its place.
    func closed(_ c: Connection, inFlight: PlannedRequest?) {
        idle[c.target].removeAll { $0 === c }
        if let r = inFlight { finished(r, .failed) }
        guard answered < total else { return }
        open(c.target).whenFailure { _ in
            // The server is gone: the requests waiting for this target fail rather than wait for ever.
            self.loop.scheduleTask(in: .milliseconds(100)) { self.closed(c, inFlight: nil) }
        }
    }
}

/// One keep-alive connection: one request at a time, answered or failed.
final class Connection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let driver: Driver
    let target: Int
    private var context: ChannelHandlerContext?
    private var current: PlannedRequest?
    private var status = 0
    private var duplicate = false

    init(driver: Driver, target: Int) {
        self.driver = driver
        self.target = target
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(_ r: PlannedRequest) {
        guard let context else { driver.finished(r, .failed); return }
        current = r
        status = 0
        duplicate = false
        context.write(wrapOutboundOut(.head(r.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(r.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(let chunk): if chunk.readableBytesView.firstRange(of: "duplicate".utf8) != nil { duplicate = true }
        case .end:
            guard let r = current else { return }
            current = nil
            driver.finished(r, status == 200 ? (duplicate ? .duplicate : .stored) : .status(status))
            driver.becameIdle(self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let r = current
        current = nil
        self.context = nil
        driver.closed(self, inFlight: r)
    }
}
