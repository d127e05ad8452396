import AgentCore
import Hummingbird
import Logging

/// Builds the health application: `GET /healthz` and `GET /metrics` on `host:port`.
/// The returned application is a `Service`; put it in the agent's `ServiceGroup`.
public func makeHealthServer(status: AgentStatus, host: String, port: Int,
                             wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                             exporter: PrometheusExporter = PrometheusExporter(version: "unknown"),
                             onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let router = Router()
    router.get("healthz") { _, _ -> Response in
        .json(ReportCoding.encode(HealthReport(snapshot: status.snapshot(), nowUnix: wallClock())))
    }
    router.get("metrics") { request, _ -> Response in
        let format = MetricsFormat.choose(accept: request.headers[.accept], format: request.uri.queryParameters.get("format"))
        switch format {
        case .json:
            return .json(ReportCoding.encode(MetricsReport(snapshot: status.snapshot())))
        case .prometheus:
            let text = exporter.render(status.snapshot(), nowUnix: wallClock())
            return Response(status: .ok, headers: [.contentType: PrometheusExporter.contentType],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
