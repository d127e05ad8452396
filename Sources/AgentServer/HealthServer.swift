import AgentCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOPosix
import ServiceLifecycle

/// Builds the health server: `GET /healthz` and `GET /metrics` on `host:port`.
/// The returned server is a `Service`; put it in the agent's `ServiceGroup`.
public func makeHealthServer(status: AgentStatus, host: String, port: Int,
                             wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                             exporter: PrometheusExporter = PrometheusExporter(version: "unknown"),
                             limits: ConnectionLimits = .health,
                             onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> any Service {
    let router = Router()
    router.get("healthz") { _, _ -> Response in
        .json(ReportCoding.encode(status.report(nowUnix: wallClock()).health))
    }
    router.get("metrics") { request, _ -> Response in
        let format = MetricsFormat.choose(accept: request.headers[.accept], format: request.uri.queryParameters.get("format"))
        switch format {
        case .json:
            return .json(ReportCoding.encode(status.report(nowUnix: wallClock()).metrics))
        case .prometheus:
            let text = exporter.render(status.report(nowUnix: wallClock()))
            return Response(status: .ok, headers: [.contentType: PrometheusExporter.contentType],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
    // Hummingbird's router and HTTP/1.1 server without its Application layer, which also runs
    // a date cache waking every second to format a `Date` header: a timer and a merged
    // sequence per second, for endpoints scraped every 15 s or so. The header is formatted per
    // response instead. Connections are capped and must deliver a request in time (slow-loris
    // clients would otherwise hold descriptors the /proc reads need).
    let responder = router.buildResponder()
    return try HTTPServerBuilder.http1(configuration: limits.channelConfiguration).buildServer(
        configuration: limits.serverConfiguration(host: host, port: port),
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
        logger: logger,
        responder: { request, writer, channel in
            let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch {
                logger.debug("health request failed", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = HTTPDate.format(unixSeconds: wallClock())
            try await writer.write(response: response.head, body: response.body)
        },
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
