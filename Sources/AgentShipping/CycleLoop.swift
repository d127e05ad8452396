import AgentPlatform
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One thread for the agent's every-interval work: the collection cycle, the shipper, the auth
/// tailer and the HTTP connection to the server all run on one NIO event loop.
///
/// Spread over several threads (Swift's cooperative pool, a timer thread, NIO's own), one cycle
/// would wake a sleeping thread at every hand-off (timer → collector → shipper → event loop →
/// back, each a futex wake and a context switch), costing more CPU than the work itself.
/// Here the interval timer is an event-loop timer (`clock`), the services' jobs run on the
/// loop (`executor`, through `withTaskExecutorPreference`), and the HTTP client's channel is
/// on the same loop, so a response resumes the waiting task on the thread that read it.
/// The loop is the agent's own, not NIO's shared singleton: the queue's `fsync` blocks it for a
/// moment, and that must not stall `/healthz` or the Docker streams.
/// Not a `Service`: its thread must outlive every service pinned to it (a job enqueued on a loop
/// that has shut down never runs, and its task would never finish), so the owner calls
/// `shutdown()` after the service group has returned.
public final class CycleLoop: Sendable {
    public let group: MultiThreadedEventLoopGroup
    public let eventLoop: any EventLoop
    public let executor: EventLoopExecutor
    public let clock: EventLoopClock

    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
        executor = EventLoopExecutor(eventLoop: eventLoop)
        clock = EventLoopClock(eventLoop: eventLoop)
    }

    /// Stops the loop's thread. Call once nothing pinned to it runs any more.
    public func shutdown() async {
        try? await group.shutdownGracefully()
    }

    /// Runs `service` with its jobs on this loop.
    public func pinned(_ service: any Service) -> any Service {
        PinnedService(base: service, executor: executor)
    }
}

struct PinnedService: Service {
    let base: any Service
    let executor: EventLoopExecutor

    func run() async throws {
        try await withTaskExecutorPreference(executor) { try await base.run() }
    }
}

/// A clock whose sleeps are timers of one event loop (a timerfd in the loop's epoll set), so a
/// task on that loop wakes on its own thread instead of through Dispatch's timer thread.
/// Instants are `ContinuousClock`'s (monotonic, counting suspended time).
public struct EventLoopClock: Clock {
    public typealias Duration = Swift.Duration
    public typealias Instant = ContinuousClock.Instant
    let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public var now: Instant { ContinuousClock.now }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let delay = now.duration(to: deadline)
        guard delay > .zero else { return }
        let (seconds, attoseconds) = delay.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let amount = nanoseconds.overflow ? Int64.max : nanoseconds.partialValue &+ attoseconds / 1_000_000_000
        let timer = eventLoop.scheduleTask(in: .nanoseconds(amount)) {}
        do {
            try await withTaskCancellationHandler {
                try await timer.futureResult.get()
            } onCancel: {
                timer.cancel()
            }
        } catch {
            throw CancellationError() // the only failure of a scheduled task is its cancellation
        }
    }
}
