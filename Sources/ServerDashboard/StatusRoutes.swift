import AgentCore
import AgentServer
import HTTPTypes
import Hummingbird
import ServerStore

/// The server's own state, outside the dashboard's sign-in (a load balancer and Prometheus reach
/// them without a user; neither names a host, a key's secret or the database's address):
/// - `GET /healthz`: 200 `{"database":"up",...}` when the database answers a ping in time, else
///   503 `{"database":"down",...}`, so a load balancer takes a receiver whose database is gone out
///   of rotation;
/// - `GET /metrics`: `ReceiverStats` in the Prometheus text format, after a fresh probe.
public enum StatusRoutes {
    struct Health: Encodable {
        let status: String
        let database: String
        let database_seconds: Double?
        let version: String
        let uptime_seconds: Int64
    }

    public static func register(on router: Router<ReceiverRequestContext>, probe: StoreProbe, stats: ReceiverStats, version: String) {
        let started = ContinuousClock.now
        router.get("/healthz") { _, _ in
            let answer = await probe.check()
            let seconds: Double? = if case .up(let d) = answer { d.inSeconds } else { nil }
            let health = Health(status: answer.isUp ? "ok" : "unavailable", database: answer.isUp ? "up" : "down", database_seconds: seconds,
                                version: version, uptime_seconds: (ContinuousClock.now - started).components.seconds)
            return DashboardRoutes.uncached(ByteBuffer(bytes: ReportCoding.encode(health)), status: answer.isUp ? .ok : .serviceUnavailable,
                                            contentType: "application/json")
        }
        router.get("/metrics") { _, _ in
            _ = await probe.check()
            return DashboardRoutes.uncached(ByteBuffer(bytes: stats.render()), status: .ok, contentType: ReceiverStats.contentType)
        }
    }
}
