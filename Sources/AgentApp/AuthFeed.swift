import AgentCore
import AgentDetect
import Synchronization

/// Failed logins as a signal source. The auth services (file tailer or journald) push lines here
/// as they read them; the failures go to the detectors at once, so a flood is never buffered
/// between cycles; each cycle takes only the counters.
public final class AuthFeed: SignalSource {
    public let name = "auth"
    let detectors: DetectorSet
    private let intake = Mutex(AuthIntake())

    public init(detectors: DetectorSet) {
        self.detectors = detectors
    }

    /// Auth log lines read at `now` (unix seconds).
    public func ingest(lines: some Sequence<some StringProtocol>, now: Int64) {
        let failures = intake.withLock { $0.take(lines: lines) }
        if !failures.isEmpty { detectors.observe(Observations(auth: failures), at: now) }
    }

    /// sshd's journal entries read at `now`.
    public func ingest(journal entries: [JournalEntry], now: Int64) {
        let failures = intake.withLock { $0.take(journal: entries) }
        if !failures.isEmpty { detectors.observe(Observations(auth: failures), at: now) }
    }

    public var counts: (lines: Int, events: Int, failures: Int) {
        intake.withLock { ($0.linesParsed, $0.events, $0.failuresCounted) }
    }

    public func collect(at time: CycleTime) async -> SourceBatch {
        var batch = SourceBatch()
        batch.counters = intake.withLock { $0.counters }
        return batch
    }
}
