/// Auth lines in, per-source activity out: parses sshd/PAM lines (from a file or journald),
/// counts each attempt once per connection (`AuthAttemptCounter`) and keeps the source's
/// counters. What goes on to the detectors is at most one entry per line.
public struct AuthIntake: Sendable {
    private var counter = AuthAttemptCounter()
    public private(set) var linesParsed = 0
    public private(set) var events = 0
    public private(set) var failuresCounted = 0
    public private(set) var probesCounted = 0
    public private(set) var logins = 0
    /// Lines whose shape fits more than one address (attacker text mimicking a field) and whose
    /// connection named none of them: not guessed at.
    public private(set) var ambiguous = 0

    public init() {}

    /// Log lines (any syslog prefix `SyslogPrefix` knows).
    public mutating func take(lines: some Sequence<some StringProtocol>) -> [AuthTally] {
        var out = [AuthTally]()
        for line in lines { count(AuthLogParser.parse(line: line), into: &out) }
        return out
    }

    /// One line as bytes (the benchmark and fuzz path).
    public mutating func take(line: UnsafeBufferPointer<UInt8>, into out: inout [AuthTally]) {
        count(AuthLogParser.parse(line: line), into: &out)
    }

    /// journald entries (MESSAGE, SYSLOG_IDENTIFIER, pid).
    public mutating func take(journal entries: [JournalEntry]) -> [AuthTally] {
        var out = [AuthTally]()
        for entry in entries {
            count(AuthLogParser.parse(message: entry.message, identifier: entry.identifier, pid: entry.pid), into: &out)
        }
        return out
    }

    private mutating func count(_ event: AuthEvent?, into out: inout [AuthTally]) {
        linesParsed += 1
        guard let e = event else { return }
        events += 1
        switch counter.take(e) {
        case .nothing: return
        case .ambiguous: ambiguous += 1
        case .tally(let t):
            failuresCounted += t.failures
            probesCounted += t.probes
            if t.accepted { logins += 1 }
            out.append(t)
        }
    }

    /// As exported in /metrics.
    public var counters: [SourceCounter] {
        [SourceCounter("monitoring_agent_auth_lines_total", "Auth log lines read", linesParsed),
         SourceCounter("monitoring_agent_auth_events_total", "Auth lines that were sshd/PAM events", events),
         SourceCounter("monitoring_agent_auth_failures_total", "Failed login attempts counted", failuresCounted),
         SourceCounter("monitoring_agent_auth_probes_total", "Pre-authentication probes counted (scans, bad banners, no matching algorithms)", probesCounted),
         SourceCounter("monitoring_agent_auth_logins_total", "Successful logins seen", logins),
         SourceCounter("monitoring_agent_auth_lines_ambiguous_total", "Auth lines whose address attacker-chosen text made ambiguous, not counted", ambiguous),
         SourceCounter("monitoring_agent_auth_connections_evicted_total",
                       "sshd connections forgotten at the connection table's cap before they ended", counter.evicted)]
    }
}
