import Synchronization

/// A value in `/healthz` or the `/metrics` JSON. Unknown values are `null`, never a made-up 0.
public enum ReportValue: Sendable, Equatable, Encodable {
    case int(Int64)
    case double(Double)
    case string(String)
    case strings([String])
    case object([String: ReportValue])
    case null

    public static func int(_ v: Int) -> ReportValue { .int(Int64(v)) }
    public static func optional(_ v: Int64?) -> ReportValue { v.map { .int($0) } ?? .null }
    public static func optional(_ v: Double?) -> ReportValue { v.map { .double($0) } ?? .null }
    public static func optional(_ v: String?) -> ReportValue { v.map { .string($0) } ?? .null }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .strings(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        case .null: try c.encodeNil()
        }
    }
}

/// One Prometheus series as a module reports it.
public struct MetricSample: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case gauge, counter }
    public struct Label: Sendable, Equatable {
        public var name: String
        public var value: String
    }
    public var name: String
    public var help: String
    public var kind: Kind
    public var labels: [Label]
    public var value: Double
}

/// What the modules' status parts put in `/healthz` (`health`), the `/metrics` JSON (`metrics`)
/// and the Prometheus exposition (`samples`).
public struct StatusReport: Sendable {
    public var health: [String: ReportValue] = [:]
    public var metrics: [String: ReportValue] = [:]
    public var samples: [MetricSample] = []

    public init() {}

    /// A value now (NaN: not known).
    public mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        gauge(name, help, [], value)
    }

    public mutating func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
        samples.append(MetricSample(name: name, help: help, kind: .gauge, labels: labels.map { .init(name: $0.0, value: $0.1) }, value: value))
    }

    /// A total since start; the exporter only ever moves it forward.
    public mutating func counter(_ name: String, _ help: String, _ value: Int) {
        counter(name, help, [], value)
    }

    public mutating func counter(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Int) {
        samples.append(MetricSample(name: name, help: help, kind: .counter, labels: labels.map { .init(name: $0.0, value: $0.1) }, value: Double(value)))
    }
}

/// A module's own status. The module keeps it current through the `StatusCell` it registered;
/// `/healthz` and `/metrics` read every part through this one call.
public protocol StatusReporting: Sendable {
    func report(into r: inout StatusReport)
}

/// One module's status part behind its own lock: reports see each part whole.
public final class StatusCell<Part: StatusReporting>: Sendable {
    private let part: Mutex<Part>

    init(_ initial: Part) {
        part = Mutex(initial)
    }

    public var value: Part { part.withLock { $0 } }

    public func update<R>(_ body: (inout Part) -> R) -> R {
        part.withLock { body(&$0) }
    }

    func report(into r: inout StatusReport) {
        part.withLock { $0.report(into: &r) }
    }
}

/// The agent's status: the start time and every module's part, in the order registered.
public final class AgentStatus: Sendable {
    public let startedAtUnix: Int64
    private let readers = Mutex<[@Sendable (inout StatusReport) -> Void]>([])

    public init(startedAtUnix: Int64) {
        self.startedAtUnix = startedAtUnix
    }

    /// Adds a module's part; the module updates it through the returned cell.
    public func register<Part: StatusReporting>(_ initial: Part) -> StatusCell<Part> {
        let cell = StatusCell(initial)
        readers.withLock { $0.append { cell.report(into: &$0) } }
        return cell
    }

    /// Every part's report, with `uptime_seconds`.
    public func report(nowUnix: Int64) -> StatusReport {
        var r = StatusReport()
        let uptime = max(0, nowUnix - startedAtUnix)
        r.health["uptime_seconds"] = .int(uptime)
        r.gauge("monitoring_agent_uptime_seconds", "Seconds since the agent started", Double(uptime))
        for read in readers.withLock({ $0 }) { read(&r) }
        return r
    }
}

public enum ReportCoding {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }
}
