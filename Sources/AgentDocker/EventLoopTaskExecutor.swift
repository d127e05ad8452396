import NIOCore

/// Runs Swift tasks on one NIO event loop. A task that prefers it (`withTaskExecutorPreference`)
/// and reads a channel of that loop is resumed on the loop's own thread, in its queue, instead of
/// waking a cooperative-pool thread for every element the channel yields.
public final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
