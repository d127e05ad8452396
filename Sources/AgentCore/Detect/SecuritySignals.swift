import Synchronization

/// The host's detectors behind one lock: auth lines in (from the tailer, every second), alerts
/// out (from the collector, every cycle).
public final class SecuritySignals: Sendable {
    struct State {
        var counter: AuthAttemptCounter
        var bruteForce: BruteForceDetector
        var cpu: CPUSpikeDetector
        var linesParsed = 0
        var events = 0
        var failuresCounted = 0

        /// One parsed line (nil: not an auth event) into the attempt counter and the window.
        mutating func count(_ event: AuthEvent?, at now: Int64) {
            linesParsed += 1
            guard let e = event else { return }
            events += 1
            let n = counter.failures(for: e)
            failuresCounted += n
            bruteForce.record(e.key, hostName: e.hostName, at: now, count: n)
        }
    }
    private let state: Mutex<State>

    public init(failedAuthThreshold: Int, authWindowSeconds: Int, baselineSamples: Int, cpuSpikePct: Double,
                cpuZScore: Double = 3.0, maxTrackedAddresses: Int = BruteForceDetector.defaultMaxTracked) {
        state = Mutex(State(
            counter: AuthAttemptCounter(),
            bruteForce: BruteForceDetector(threshold: failedAuthThreshold, windowSeconds: authWindowSeconds, maxTracked: maxTrackedAddresses),
            cpu: CPUSpikeDetector(baselineSamples: baselineSamples, spikePercent: cpuSpikePct, zThreshold: cpuZScore)))
    }

    /// Parses auth log lines and counts failed attempts at `now` (unix seconds).
    public func ingest(lines: some Sequence<some StringProtocol>, now: Int64) {
        state.withLock { s in
            for line in lines { s.count(AuthLogParser.parse(line: line), at: now) }
        }
    }

    /// Counts journald messages (the part after `sshd[pid]: `) from sshd at `now`.
    public func ingest(journal entries: [JournalEntry], now: Int64) {
        state.withLock { s in
            for entry in entries { s.count(AuthLogParser.parse(message: entry.message, pid: entry.pid), at: now) }
        }
    }

    /// This cycle's alerts: `CPU_SPIKE` from the sample, `BRUTE_FORCE:<addr>` per offending address.
    /// An unknown CPU reading (nil) is neither judged nor added to the baseline.
    public func alerts(cpuUsage: Double?, now: Int64) -> [Alert] {
        state.withLock { s in
            var out = [Alert]()
            if let cpuUsage, s.cpu.observe(cpuUsage) { out.append(Alert(.cpuSpike)) }
            for addr in s.bruteForce.offenders(at: now) { out.append(Alert(.bruteForce, subject: addr)) }
            return out
        }
    }

    public var linesParsed: Int { state.withLock { $0.linesParsed } }
    /// (lines read, sshd/PAM events, failed attempts counted), under one lock.
    public var counts: (lines: Int, events: Int, failures: Int) {
        state.withLock { ($0.linesParsed, $0.events, $0.failuresCounted) }
    }
    public var failuresCounted: Int { state.withLock { $0.failuresCounted } }
}

/// `--simulate-attack`: synthetic sshd failures from a documentation address and a synthetic CPU
/// spike, pushed through the real parser and detectors (a separate instance, so the host's real
/// baseline and counts are not touched), plus a synthetic `SHELL_IN_CONTAINER`.
public struct AttackSimulator: Sendable {
    public static let attacker = "203.0.113.66"
    let signals: SecuritySignals
    let threshold: Int
    let baselineSamples: Int

    public init(failedAuthThreshold: Int, authWindowSeconds: Int, baselineSamples: Int, cpuSpikePct: Double) {
        signals = SecuritySignals(failedAuthThreshold: failedAuthThreshold, authWindowSeconds: authWindowSeconds,
                                  baselineSamples: baselineSamples, cpuSpikePct: cpuSpikePct)
        threshold = failedAuthThreshold
        self.baselineSamples = baselineSamples
    }

    /// One cycle of synthetic attack; returns the alerts the detectors raised.
    public func cycle(now: Int64) -> [Alert] {
        let stamp = "Nov 28 05:54:23 simulated sshd"
        let lines = (0..<threshold).map { i in
            "\(stamp)[\(40_000 + i)]: Failed password for invalid user admin from \(Self.attacker) port \(50_000 + i) ssh2"
        }
        signals.ingest(lines: lines, now: now)
        // A calm baseline, then a spike: the CPU detector's own rules decide.
        for _ in 0..<baselineSamples { _ = signals.alerts(cpuUsage: 3.0 + Double(now % 3), now: now) }
        var alerts = signals.alerts(cpuUsage: 100.0, now: now)
        alerts.append(Alert(.shellInContainer))
        return alerts
    }
}
