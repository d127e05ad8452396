import Dispatch

/// What an executable's `main` runs a command through.
///
/// `main` is synchronous on purpose: an `async` main ends in `dispatch_main()`, which calls
/// `pthread_exit` on the main thread, and that forced unwind walks `.eh_frame` with libgcc's
/// unwinder, leaving about 1.3 MB of unwind tables resident for the life of the process
/// (docs/BENCHMARKS.md). Here the main thread waits for the command instead. Nothing runs on the
/// main actor, so the main queue not being drained costs nothing.
public enum SynchronousMain {
    public static func run(_ command: @escaping @Sendable () async -> Void) {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await command()
            finished.signal()
        }
        finished.wait()
    }
}
