import AgentServer
import Logging
import Synchronization

/// Whether the store answers, for `/healthz` and `/metrics`. One ping at a time: probes that
/// arrive while one is out share its answer, so a load balancer polling many times a second
/// costs one round trip at a time. A ping gets `timeout` (a database that hangs is down after
/// it; the ping is cancelled and left to end on its own). A change between up and down is logged
/// once, not every probe.
public final class StoreProbe: Sendable {
    public enum Answer: Sendable, Equatable {
        case up(Duration)
        /// The store's error, for the log only (never in an answer over HTTP).
        case failed(String)
        case timedOut

        public var isUp: Bool { if case .up = self { true } else { false } }
    }

    let ping: @Sendable () async throws -> Void
    let location: String
    let timeout: Duration
    let stats: ReceiverStats?
    let logger: Logger
    private let waiting = Mutex<[CheckedContinuation<Answer, Never>]?>(nil)
    private let wasUp = Mutex(true)

    public convenience init(store: any PayloadStore, timeout: Duration = .seconds(2), stats: ReceiverStats?, logger: Logger) {
        self.init(location: store.location, timeout: timeout, stats: stats, logger: logger, ping: { try await store.ping() })
    }

    /// `ping` is one round trip to the database at `location`.
    public init(location: String, timeout: Duration, stats: ReceiverStats?, logger: Logger, ping: @escaping @Sendable () async throws -> Void) {
        self.ping = ping
        self.location = location
        self.timeout = timeout
        self.stats = stats
        self.logger = logger
    }

    /// Callers waiting for the ping that is out.
    var waitingCount: Int { waiting.withLock { $0?.count ?? 0 } }

    public func check() async -> Answer {
        await withCheckedContinuation { (c: CheckedContinuation<Answer, Never>) in
            let first = waiting.withLock { w -> Bool in
                guard w == nil else { w!.append(c); return false }
                w = [c]
                return true
            }
            guard first else { return }
            Task {
                let answer = await self.race()
                self.record(answer)
                for waiter in self.waiting.withLock({ w in defer { w = nil }; return w ?? [] }) { waiter.resume(returning: answer) }
            }
        }
    }

    /// One ping raced against the timeout; the first to end answers (the timer sleeps out its
    /// time either way: one sleeping task per probe at most).
    private func race() async -> Answer {
        let ping = ping, timeout = timeout
        let started = ContinuousClock.now
        return await withCheckedContinuation { (c: CheckedContinuation<Answer, Never>) in
            let once = Mutex<CheckedContinuation<Answer, Never>?>(c)
            let finish: @Sendable (Answer) -> Void = { a in once.withLock { $0.take() }?.resume(returning: a) }
            let pinging = Task {
                do {
                    try await ping()
                    finish(.up(.now - started))
                } catch {
                    finish(.failed("\(error)"))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                pinging.cancel()
                finish(.timedOut)
            }
        }
    }

    private func record(_ answer: Answer) {
        if case .up(let d) = answer { stats?.probed(d) } else { stats?.probed(nil) }
        let changed = wasUp.withLock { up in defer { up = answer.isUp }; return up != answer.isUp }
        guard changed else { return }
        if answer.isUp {
            logger.notice("database answers again", metadata: ["location": "\(location)"])
        } else {
            let reason = if case .failed(let error) = answer { error } else { "no answer within \(timeout)" }
            logger.warning("database does not answer", metadata: ["location": "\(location)", "reason": "\(reason)"])
        }
    }
}
