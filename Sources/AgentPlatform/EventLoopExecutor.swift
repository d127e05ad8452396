import NIOCore

/// Runs Swift concurrency jobs on a NIO event loop. A task that prefers it
/// (`withTaskExecutorPreference`) and reads a channel of that loop is resumed on the loop's own
/// thread instead of waking a cooperative-pool thread for every element; from the loop's own
/// thread `execute` only appends to the loop's task queue (no eventfd write, no wake-up).
public final class EventLoopExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
