/// The detection rules this agent knows, with their weights in one typed table.
public enum AlertRule: String, Sendable, CaseIterable, Codable {
    case cpuSpike = "CPU_SPIKE"
    case bruteForce = "BRUTE_FORCE"
    case shellInContainer = "SHELL_IN_CONTAINER"
    case http5xxSpike = "HTTP_5XX_SPIKE"
    /// A successful login from a source that had reached the brute-force threshold in the
    /// window: the brute force that worked.
    case loginAfterFailures = "LOGIN_AFTER_FAILURES"
    /// Many distinct invalid user names from one source (a dictionary of account names).
    case userEnumeration = "USER_ENUMERATION"
    /// One existing account failing from many distinct sources (a botnet sharing the work).
    case distributedBruteForce = "DISTRIBUTED_BRUTE_FORCE"

    /// Severity weight; a payload's `score` is the sum over its alerts.
    public var weight: Double {
        switch self {
        case .cpuSpike: 0.4
        case .bruteForce: 0.5
        case .shellInContainer: 0.6
        case .http5xxSpike: 0.25
        case .loginAfterFailures: 0.9
        case .userEnumeration: 0.3
        case .distributedBruteForce: 0.5
        }
    }
}

/// One raised alert: a rule and, for per-source or per-account rules, its subject (the
/// attacking address, or the attacked account).
public struct Alert: Sendable, Hashable {
    public let rule: AlertRule
    public let subject: String?

    public init(_ rule: AlertRule, subject: String? = nil) {
        self.rule = rule
        self.subject = subject
    }

    /// Spec wire form: `CPU_SPIKE`, `BRUTE_FORCE:192.168.1.100`.
    public var wireValue: String {
        guard let subject else { return rule.rawValue }
        return rule.rawValue + ":" + subject
    }

    /// Parses the wire form back (used by the receiver and tests).
    public init?(wireValue: String) {
        let parts = wireValue.split(separator: ":", maxSplits: 1)
        guard let first = parts.first, let rule = AlertRule(rawValue: String(first)) else { return nil }
        self.init(rule, subject: parts.count > 1 ? String(parts[1]) : nil)
    }

    /// Sum of weights of `alerts` and of `omitted` alerts per rule, rounded to 4 decimals so
    /// 0.4 + 0.25 prints as 0.65.
    public static func score(of alerts: [Alert], omitted: [AlertRule: Int] = [:]) -> Double {
        var sum = alerts.reduce(0.0) { $0 + $1.rule.weight }
        for (rule, n) in omitted.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { sum += Double(n) * rule.weight }
        return (sum * 10_000).rounded() / 10_000
    }
}
