import AgentApp
import Dispatch

/// The executable only hands over to the command line in AgentApp.
///
/// `main` is synchronous on purpose: an `async` main ends in `dispatch_main()`, which calls
/// `pthread_exit` on the main thread, and that forced unwind walks `.eh_frame` with libgcc's
/// unwinder, leaving about 1.3 MB of unwind tables resident for the life of the process
/// (docs/BENCHMARKS.md). Here the main thread waits for the command instead. Nothing in the
/// agent runs on the main actor, so the main queue not being drained costs nothing.
@main
enum Entry {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await AgentCommand.runFromCommandLine()
            finished.signal()
        }
        finished.wait()
    }
}
