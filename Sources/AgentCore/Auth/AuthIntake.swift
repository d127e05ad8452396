/// Auth lines in, failed logins out: parses sshd/PAM lines (from a file or journald), counts
/// each attempt once per connection (`AuthAttemptCounter`) and keeps the source's counters.
/// Returns only the failures, so what goes on to the detectors is at most one entry per line
/// that was a failure.
public struct AuthIntake: Sendable {
    private var counter = AuthAttemptCounter()
    public private(set) var linesParsed = 0
    public private(set) var events = 0
    public private(set) var failuresCounted = 0

    public init() {}

    /// Log lines (syslog or RFC 5424 form).
    public mutating func take(lines: some Sequence<some StringProtocol>) -> [AuthFailure] {
        var out = [AuthFailure]()
        for line in lines { count(AuthLogParser.parse(line: line), into: &out) }
        return out
    }

    /// journald messages from sshd (the part after `sshd[pid]: `).
    public mutating func take(journal entries: [JournalEntry]) -> [AuthFailure] {
        var out = [AuthFailure]()
        for entry in entries { count(AuthLogParser.parse(message: entry.message, pid: entry.pid), into: &out) }
        return out
    }

    private mutating func count(_ event: AuthEvent?, into out: inout [AuthFailure]) {
        linesParsed += 1
        guard let e = event else { return }
        events += 1
        let n = counter.failures(for: e)
        guard n > 0 else { return }
        failuresCounted += n
        out.append(AuthFailure(key: e.key, hostName: e.hostName, count: n))
    }

    /// As exported in /metrics.
    public var counters: [SourceCounter] {
        [SourceCounter("monitoring_agent_auth_lines_total", "Auth log lines read", linesParsed),
         SourceCounter("monitoring_agent_auth_events_total", "Auth lines that were sshd/PAM events", events),
         SourceCounter("monitoring_agent_auth_failures_total", "Failed login attempts counted", failuresCounted)]
    }
}
