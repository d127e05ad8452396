import HTTPTypes
import NIOHTTPTypes
import HummingbirdCore
import NIOCore

/// Closes a connection that does not deliver a request in time: `headerTimeout` from the
/// connection's start (and from the end of each response, for a kept-alive connection) until a
/// request head arrives, then `bodyTimeout` until the request's end. A client that trickles
/// bytes (slow-loris) or just holds the socket open is cut off, whatever its pace; one that
/// waits for its response is not (the timer is off while the server answers).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headerTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(context, headerTimeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, bodyTimeout)
        case .body: break
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context, headerTimeout) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ after: TimeAmount) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: after) { loopBound.value.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}

/// How the agent's and the receiver's HTTP servers hold clients to account.
public struct ConnectionLimits: Sendable {
    /// Connections served at once; past it the server stops accepting (the kernel's backlog
    /// holds the rest) until one closes, so descriptors and memory stay bounded.
    public var maxConnections: Int
    /// From connect (or the end of the last response) to a complete request head.
    public var headerTimeout: TimeAmount
    /// From the request head to the end of its body.
    public var bodyTimeout: TimeAmount

    public init(maxConnections: Int, headerTimeout: TimeAmount = .seconds(10), bodyTimeout: TimeAmount = .seconds(30)) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// The health endpoints: scraped by one Prometheus and a probe or two.
    public static let health = ConnectionLimits(maxConnections: 64)
    /// The receiver: many agents, each with one kept-alive connection.
    public static let receiver = ConnectionLimits(maxConnections: 4096)

    var channelConfiguration: HTTP1Channel.Configuration {
        let (header, body) = (headerTimeout, bodyTimeout)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(headerTimeout: header, bodyTimeout: body)],
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 << 10, maxHeaderListSize: 64 << 10, maxHeaderFieldCount: 100))
    }

    func serverConfiguration(host: String, port: Int) -> ServerConfiguration {
        ServerConfiguration(address: .hostname(host, port: port), serverName: nil,
                            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections))
    }
}
