@testable import AgentShipping
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// The agent's cycle thread: pinned services stay on the loop across awaits, actor hops and
/// sleeps; the loop's clock sleeps as long as asked and wakes at once on cancellation.
@Suite struct CycleLoopTests {
    actor Counter {
        var n = 0
        func bump() -> Int { n += 1; return n }
    }

    final class Seen: Sendable {
        let m = Mutex<[String: Bool]>([:])
        func set(_ key: String, _ value: Bool) { m.withLock { $0[key] = value } }
        var all: [String: Bool] { m.withLock { $0 } }
    }

    /// A service that records, after each kind of suspension, whether it runs on the loop.
    struct Probe: Service {
        let loop: any EventLoop
        let clock: EventLoopClock
        let seen: Seen
        let counter = Counter()

        func run() async throws {
            seen.set("start", loop.inEventLoop)
            _ = await counter.bump() // an actor hop
            seen.set("after actor", loop.inEventLoop)
            try await clock.sleep(for: .milliseconds(20))
            seen.set("after sleep", loop.inEventLoop)
            await withTaskGroup(of: Bool.self) { group in // child tasks inherit the preference
                group.addTask { loop.inEventLoop }
                for await onLoop in group { seen.set("child task", onLoop) }
            }
            _ = try await loop.submit { 1 }.get() // a future completed on the loop
            seen.set("after future", loop.inEventLoop)
        }
    }

    @Test func pinnedServicesRunOnTheLoopAcrossSuspensions() async throws {
        let cycle = CycleLoop()
        let seen = Seen()
        try await cycle.pinned(Probe(loop: cycle.eventLoop, clock: cycle.clock, seen: seen)).run()
        #expect(seen.all == ["start": true, "after actor": true, "after sleep": true, "child task": true, "after future": true])
        // Unpinned, the same service runs on Swift's pool: the probe can tell the difference.
        let unpinned = Seen()
        try await Probe(loop: cycle.eventLoop, clock: cycle.clock, seen: unpinned).run()
        #expect(unpinned.all["start"] == false)
        await cycle.shutdown()
    }

    @Test func clockSleepsUntilTheDeadlineAndStopsOnCancellation() async throws {
        let cycle = CycleLoop()
        let clock = cycle.clock
        let start = clock.now
        try await clock.sleep(until: start.advanced(by: .milliseconds(150)))
        #expect(clock.now >= start.advanced(by: .milliseconds(150)), "never wakes early")
        try await clock.sleep(until: start) // a deadline in the past returns at once

        let sleeper = Task { try await clock.sleep(for: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        let cancelledAt = ContinuousClock.now
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // Well before the 30 s the sleep asked for; loose, since a loaded machine may not run the
        // cancelled task for a while.
        #expect(ContinuousClock.now - cancelledAt < .seconds(20))
        let early = Task {
            while !Task.isCancelled { await Task.yield() }
            try await clock.sleep(for: .seconds(30)) // already cancelled: throws before any timer
        }
        early.cancel()
        await #expect(throws: CancellationError.self) { try await early.value }
        await cycle.shutdown()
    }
}
