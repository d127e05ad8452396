import AgentCore
import AgentDetect
@testable import AgentApp
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// `repeatEvery`, the collector's and auth tailers' loop: one sleep per tick, first tick after
/// one interval (or at once), no burst after a late tick, ends when its task is cancelled.
/// Only lower bounds on time are checked: a sleep never ends early, however busy the machine.
@Suite struct TickerTests {
    final class Ticks: Sendable {
        let m = Mutex<[ContinuousClock.Instant]>([])
        func add() { m.withLock { $0.append(.now) } }
        var all: [ContinuousClock.Instant] { m.withLock { $0 } }
    }

    @Test func ticksEveryIntervalWithoutBunchingAfterALateTick() async throws {
        let ticks = Ticks()
        let start = ContinuousClock.now
        let task = Task {
            await repeatEvery(.milliseconds(50), clock: ContinuousClock()) {
                ticks.add()
                if ticks.all.count == 2 { try? await Task.sleep(for: .milliseconds(180)) } // a late tick
            }
        }
        while ticks.all.count < 5 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await task.value // returns once cancelled
        let t = ticks.all
        // Deadlines are fixed (a tick that woke late does not delay the next), so each bound is
        // counted from a point the schedule is derived from.
        #expect(t[0] - start >= .milliseconds(50), "the first tick comes after one interval")
        #expect(t[1] - start >= .milliseconds(100))
        // The second tick ran 180 ms; the schedule restarts from its end instead of firing the
        // missed ticks at once.
        #expect(t[2] - t[1] >= .milliseconds(180 + 50))
        #expect(t[4] - t[1] >= .milliseconds(180 + 3 * 50))
    }

    @Test func startingNowTicksAtOnceAndCancellationEndsTheLoop() async throws {
        let ticks = Ticks()
        let start = ContinuousClock.now
        let task = Task { await repeatEvery(.seconds(30), clock: ContinuousClock(), startingNow: true) { ticks.add() } }
        while ticks.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(ticks.all[0] - start < .seconds(30))
        task.cancel()
        await task.value // the 30 s sleep ends on cancellation
        #expect(ContinuousClock.now - start < .seconds(25))
        #expect(ticks.all.count == 1)
    }
}

/// The auth tailer polls on the clock it is given (the agent passes its cycle loop's clock, so
/// the once-a-second tick does not go through Dispatch's timer thread).
@Suite struct AuthPollClockTests {
    final class Count: Sendable {
        let m = Mutex(0)
        func add() { m.withLock { $0 += 1 } }
        var value: Int { m.withLock { $0 } }
    }

    struct CountingClock: Clock {
        let sleeps: Count
        var now: ContinuousClock.Instant { .now }
        var minimumResolution: Duration { ContinuousClock().minimumResolution }
        func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
            sleeps.add()
            try await ContinuousClock().sleep(until: deadline, tolerance: tolerance)
        }
    }

    @Test func authTailerSleepsOnTheInjectedClock() async throws {
        let dir = Paths.tempDir("auth-clock")
        FileManager.default.createFile(atPath: dir + "/auth.log", contents: Data())
        let sleeps = Count()
        let service = AuthMonitorService(
            path: dir + "/auth.log", positionFile: dir + "/position",
            feed: AuthFeed(detectors: DetectorSet([])),
            wallClock: { 0 }, logger: Logger(label: "test"), clock: CountingClock(sleeps: sleeps))
        let task = Task { try await service.run() }
        // Generous: the whole suite starts at once on a 2-core machine and may hold the runner's
        // threads for a while; what this checks is which clock is used, not how fast.
        try await eventually(timeout: 60, "two polls on the injected clock") { sleeps.value >= 2 }
        task.cancel()
        try await task.value
    }
}
