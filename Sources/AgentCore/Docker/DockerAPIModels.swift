/// The parts of Docker Engine API responses the agent reads. Field names are the API's own.
/// Decoding is lenient: unknown fields are ignored, optional ones may be missing (podman omits some).

/// One line of `/events`.
public struct DockerEventMessage: Decodable, Sendable, Equatable {
    public struct EventActor: Decodable, Sendable, Equatable {
        public var ID: String?
        public var Attributes: [String: String]?
    }
    public var `Type`: String?
    public var Action: String?
    public var Actor: EventActor?
    public var time: Int64?
    public var timeNano: Int64?

    public var containerID: String? { Actor?.ID }
    public var attributes: [String: String] { Actor?.Attributes ?? [:] }

    /// The action without the command line Docker appends to exec actions
    /// (`exec_start: sh -c …` → `exec_start`): command lines may carry secrets.
    public var baseAction: String {
        guard let a = Action else { return "" }
        if let colon = a.firstIndex(of: ":") { return String(a[..<colon]) }
        return a
    }

    /// The command line of an exec action (`exec_create: sh -c x` → `sh -c x`), if any.
    public var execCommand: String? {
        guard let a = Action, let colon = a.firstIndex(of: ":") else { return nil }
        return String(a[a.index(after: colon)...]).trimmingLeadingSpaces()
    }

    /// When the event happened; a `time` outside years 1-9999 is no time.
    public var timestamp: DockerTimestamp? {
        if let timeNano { return DockerTimestamp(timeNano: timeNano) }
        if let time, DockerTimestamp.printable.contains(time) { return DockerTimestamp(seconds: time, nanos: 0) }
        return nil
    }
}

/// One entry of `/containers/json`.
public struct DockerContainerSummary: Decodable, Sendable, Equatable {
    public var Id: String
    public var Names: [String]?
    public var Image: String?
    public var State: String?
}

/// `/containers/{id}/json`.
public struct DockerContainerInspect: Decodable, Sendable, Equatable {
    public struct Config: Decodable, Sendable, Equatable {
        public struct Healthcheck: Decodable, Sendable, Equatable {
            public var Test: [String]?
        }
        public var Tty: Bool?
        public var Image: String?
        public var Healthcheck: Healthcheck?
    }
    public struct State: Decodable, Sendable, Equatable {
        public var Running: Bool?
        /// RFC 3339 start time of the current run (`0001-01-01T00:00:00Z` when never started).
        public var StartedAt: String?
    }
    public var Id: String
    public var Name: String?
    public var Config: Config?
    public var State: State?
    public var ExecIDs: [String]?

    /// When the current run started: no log line of this run is older.
    public var startedAt: DockerTimestamp? {
        guard let s = self.State?.StartedAt, let t = DockerTimestamp(rfc3339: Array(s.utf8)), t.seconds > 0 else { return nil }
        return t
    }

    /// The container's name without Docker's leading slash.
    public var displayName: String {
        guard let n = Name, !n.isEmpty else { return String(Id.prefix(12)) }
        return n.hasPrefix("/") ? String(n.dropFirst()) : n
    }
}

/// `/exec/{id}/json`.
public struct DockerExecInspect: Decodable, Sendable, Equatable {
    public struct ProcessConfig: Decodable, Sendable, Equatable {
        public var tty: Bool?
        public var entrypoint: String?
        public var arguments: [String]?
        public var user: String?
    }
    public var ID: String?
    public var ContainerID: String?
    public var OpenStdin: Bool?
    public var ProcessConfig: ProcessConfig?
}

extension String {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " }))
    }
}
