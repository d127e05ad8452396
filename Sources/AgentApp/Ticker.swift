/// Calls `body` every `interval` of `clock` until the calling task is cancelled (the services
/// run their loop inside `cancelWhenGracefulShutdown`, so a graceful shutdown ends it at the
/// next sleep). One sleep per tick and no task or continuation per tick:
/// `AsyncTimerSequence(...).cancelOnGracefulShutdown()` merges the timer with the shutdown
/// sequence through child tasks and continuations on every element, which cost about as much
/// CPU as the rest of a collection cycle (docs/BENCHMARKS.md).
/// A late tick does not make the next ones bunch up: the schedule restarts from now.
func repeatEvery<C: Clock>(_ interval: C.Duration, clock: C, startingNow: Bool = false,
                           _ body: () async -> Void) async {
    var deadline = clock.now
    if startingNow {
        await body()
    }
    while true {
        deadline = deadline.advanced(by: interval)
        let now = clock.now
        if deadline < now { deadline = now.advanced(by: interval) }
        do { try await clock.sleep(until: deadline, tolerance: nil) } catch { return }
        await body()
    }
}
