/// What the sources saw that detectors judge: one batch, handed to every detector.
///
/// Everything in it is already parsed and bounded by the source that made it: a detector never
/// sees raw outside bytes.
public struct Observations: Sendable, Equatable {
    /// This cycle's CPU usage, percent (nil: not sampled in this batch, or unreadable).
    public var cpuUsage: Double?
    /// Auth activity per source, in arrival order: failed attempts (each counted once by
    /// `AuthIntake`), probes and successful logins.
    public var auth: [AuthTally] = []
    /// `docker exec`s started in containers.
    public var execs: [ContainerExec] = []
    /// Access-log statuses per container since the previous batch.
    public var httpStatuses: [String: HTTPStatusCounts] = [:]
    /// Other numeric readings by name (`load1`, `inodes_used_pct`, ...): what a new source hands
    /// a new detector without a new field here. Names are the source's; the latest value wins.
    public var samples: [String: Double] = [:]

    public init(cpuUsage: Double? = nil, auth: [AuthTally] = [], execs: [ContainerExec] = [],
                httpStatuses: [String: HTTPStatusCounts] = [:], samples: [String: Double] = [:]) {
        self.cpuUsage = cpuUsage
        self.auth = auth
        self.execs = execs
        self.httpStatuses = httpStatuses
        self.samples = samples
    }

    public var isEmpty: Bool {
        cpuUsage == nil && auth.isEmpty && execs.isEmpty && httpStatuses.isEmpty && samples.isEmpty
    }
}

/// Access-log lines of one container that carried an HTTP status, and how many were 5xx.
public struct HTTPStatusCounts: Sendable, Equatable {
    public var total = 0
    public var errors = 0

    public init(total: Int = 0, errors: Int = 0) {
        self.total = total
        self.errors = errors
    }

    public mutating func add(_ status: Int) {
        total += 1
        if status >= 500 { errors += 1 }
    }

    public mutating func add(_ other: HTTPStatusCounts) {
        total += other.total
        errors += other.errors
    }
}

extension Dictionary where Key == String, Value == HTTPStatusCounts {
    /// Adds `counts` to `container`'s entry; a container not yet present is left out once
    /// `limit` containers are (container names come from outside, so the map is bounded).
    public mutating func add(_ counts: HTTPStatusCounts, for container: String, limit: Int) {
        guard count < limit || self[container] != nil else { return }
        self[container, default: HTTPStatusCounts()].add(counts) // one hash lookup, modified in place
    }
}

/// A process started in a container with `docker exec`, as Docker describes it.
public struct ExecProcess: Sendable, Equatable {
    public var entrypoint: String
    public var arguments: [String]
    public var tty: Bool
    public var stdin: Bool
    public var user: String

    public init(entrypoint: String, arguments: [String], tty: Bool, stdin: Bool, user: String) {
        self.entrypoint = entrypoint
        self.arguments = arguments
        self.tty = tty
        self.stdin = stdin
        self.user = user
    }

    public init(_ inspect: DockerExecInspect) {
        let p = inspect.ProcessConfig
        self.init(entrypoint: p?.entrypoint ?? "", arguments: p?.arguments ?? [], tty: p?.tty ?? false,
                  stdin: inspect.OpenStdin ?? false, user: p?.user ?? "")
    }

    public var commandLine: String { ([entrypoint] + arguments).joined(separator: " ") }

    /// Whether this is the container's own healthcheck `test`. Compared as command lines: an exec
    /// that is already gone is only known by the text in its event.
    public func isHealthcheck(_ test: [String]?) -> Bool {
        guard let test, let expected = Self.healthcheckCommandLine(test) else { return false }
        return expected == commandLine
    }

    /// The command line Docker runs (and names in exec events) for a healthcheck `Test`:
    /// `CMD-SHELL x` → `/bin/sh -c x`, `CMD a b` → `a b`.
    public static func healthcheckCommandLine(_ test: [String]) -> String? {
        switch test.first {
        case "CMD-SHELL": return (["/bin/sh", "-c"] + test.dropFirst()).joined(separator: " ")
        case "CMD": return test.dropFirst().joined(separator: " ")
        default: return nil
        }
    }
}

/// One exec in a named container, with the container's healthcheck (so a detector can tell the
/// daemon's own probes from a person).
public struct ContainerExec: Sendable, Equatable {
    public var container: String
    public var image: String?
    public var process: ExecProcess
    public var healthcheck: [String]?

    public init(container: String, image: String?, process: ExecProcess, healthcheck: [String]?) {
        self.container = container
        self.image = image
        self.process = process
        self.healthcheck = healthcheck
    }
}

/// What detectors raised: alerts for `local_alerts` and the details for `alerts_detail`, and per
/// rule the alerts raised but not listed (past `capped(perRule:)`), which still count in the
/// payload's score and are summarised in `alerts_detail`.
public struct Findings: Sendable, Equatable {
    public var alerts: [Alert] = []
    public var details: [AlertDetail] = []
    public var omitted: [AlertRule: Int] = [:]

    public init(alerts: [Alert] = [], details: [AlertDetail] = [], omitted: [AlertRule: Int] = [:]) {
        self.alerts = alerts
        self.details = details
        self.omitted = omitted
    }

    /// The most alerts of one rule a payload of `bytes` could list: every alert that can be raised
    /// more than once a cycle takes more than 64 bytes of JSON with its detail (`"BRUTE_FORCE:1.2.3.4"`
    /// and its `{"failures":..,"rule":..,"source":..,"window_seconds":..}` are about 100), so a cap
    /// of bytes/64 never leaves out an alert that would have fitted.
    public static func maxAlertsPerRule(payloadBytes bytes: Int) -> Int {
        max(16, bytes / 64)
    }

    /// Alerts raised this cycle, listed or not.
    public var raisedCount: Int { alerts.count + omitted.values.reduce(0, +) }

    /// Adds another's alerts, each alert once (one `BRUTE_FORCE:<addr>` per address per
    /// payload, however many detectors or sources raised it), all its details and its omitted
    /// counts.
    public mutating func add(_ other: Findings) {
        details += other.details
        omitted.merge(other.omitted, uniquingKeysWith: +)
        guard !other.alerts.isEmpty else { return }
        var seen = Set(alerts) // a flood can hold thousands of offenders: no quadratic search
        for a in other.alerts where seen.insert(a).inserted { alerts.append(a) }
    }

    /// At most `limit` alerts and details of each rule, the first ones (detectors list the worst
    /// first); the alerts left out are counted in `omitted`.
    public func capped(perRule limit: Int) -> Findings {
        var perRule: [AlertRule: Int] = [:]
        for a in alerts { perRule[a.rule, default: 0] += 1 }
        guard perRule.values.contains(where: { $0 > limit }) else { return self }
        var out = Findings(omitted: omitted)
        var kept: [AlertRule: Int] = [:]
        for a in alerts {
            kept[a.rule, default: 0] += 1
            if kept[a.rule]! <= limit { out.alerts.append(a) } else { out.omitted[a.rule, default: 0] += 1 }
        }
        kept = [:]
        for d in details {
            kept[d.rule, default: 0] += 1
            if kept[d.rule]! <= limit { out.details.append(d) }
        }
        return out
    }
}
