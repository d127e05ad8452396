/// The Docker Engine connection as /healthz (`docker`) and /metrics report it; `.disabled`
/// when Docker monitoring is off.
public struct DockerConnectionStatus: StatusReporting, Equatable {
    public var connection: DockerActivity.Connection

    public init(_ connection: DockerActivity.Connection) {
        self.connection = connection
    }

    public func report(into r: inout StatusReport) {
        r.health["docker"] = .string(connection.rawValue)
        r.gauge("monitoring_agent_docker_connected", "1 when the Docker Engine API answers", connection == .connected ? 1 : 0)
    }
}
