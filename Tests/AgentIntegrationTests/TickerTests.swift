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
/// On a `ManualClock`: time moves only when the test advances it, so every instant is exact.
@Suite struct TickerTests {
    final class Ticks: Sendable {
        let m = Mutex<[Duration]>([])
        func add(_ at: ManualClock.Instant) { m.withLock { $0.append(at.offset) } }
        var all: [Duration] { m.withLock { $0 } }
    }

    /// Waits (in real time, briefly) until the loop is asleep on the clock, then advances it.
    func step(_ clock: ManualClock, sleepers: Int = 1, by d: Duration) async throws {
        try await eventually(timeout: 30, "a sleeper on the manual clock") { clock.sleeping >= sleepers }
        clock.advance(by: d)
    }

    @Test func ticksEveryIntervalWithoutBunchingAfterALateTick() async throws {
        let clock = ManualClock()
        let ticks = Ticks()
        let task = Task {
            await repeatEvery(.milliseconds(50), clock: clock) {
                ticks.add(clock.now)
                if ticks.all.count == 2 { try? await clock.sleep(for: .milliseconds(180)) } // a late tick
            }
        }
        try await step(clock, by: .milliseconds(50))        // tick 1 at 50
        try await step(clock, by: .milliseconds(50))        // tick 2 at 100, which then runs 180 ms
        try await step(clock, by: .milliseconds(180))       // tick 2 ends at 280
        try await step(clock, by: .milliseconds(50))        // tick 3 at 330: one interval later, no burst
        try await step(clock, by: .milliseconds(50))        // tick 4 at 380
        try await eventually(timeout: 30, "four ticks") { ticks.all.count == 4 }
        task.cancel()
        await task.value // returns once cancelled
        #expect(ticks.all == [.milliseconds(50), .milliseconds(100), .milliseconds(330), .milliseconds(380)])
    }

    @Test func startingNowTicksAtOnceAndCancellationEndsTheLoop() async throws {
        let clock = ManualClock()
        let ticks = Ticks()
        let task = Task { await repeatEvery(.seconds(30), clock: clock, startingNow: true) { ticks.add(clock.now) } }
        try await eventually(timeout: 30, "asleep after the first tick") { clock.sleeping == 1 }
        #expect(ticks.all == [.zero], "the first tick at once")
        task.cancel()
        await task.value // the 30 s sleep ends on cancellation, with no time passing
        #expect(ticks.all.count == 1 && clock.now.offset == .zero)
    }
}

/// The auth tailer polls on the clock it is given (the agent passes its cycle loop's clock, so
/// the once-a-second tick does not go through Dispatch's timer thread).
@Suite struct AuthPollClockTests {
    /// The tailer on an empty auth log, on a manual clock, past its first poll (which opens the
    /// file at its end) and asleep until the next tick.
    static func startedTailer(_ name: String, workPerTick: Duration = AuthMonitorService.defaultWorkPerTick) async throws
        -> (dir: String, clock: ManualClock, feed: AuthFeed, task: Task<Void, any Error>) {
        let dir = Paths.tempDir(name)
        FileManager.default.createFile(atPath: dir + "/auth.log", contents: Data())
        let clock = ManualClock()
        let feed = AuthFeed(detectors: DetectorSet([]))
        let service = AuthMonitorService(path: dir + "/auth.log", positionFile: dir + "/position", feed: feed,
                                         wallClock: { 0 }, logger: Logger(label: "test"), clock: clock, workPerTick: workPerTick)
        let task = Task { try await service.run() }
        try await eventually(timeout: 60, "the tailer asleep on the clock") { clock.sleeping == 1 }
        clock.advance(by: .seconds(1))
        try await eventually(timeout: 60, "asleep again") { clock.sleeping == 1 }
        return (dir, clock, feed, task)
    }

    /// A line appended to the log is read at the next tick of the given clock, and not before.
    @Test func authTailerPollsOnTheInjectedClock() async throws {
        let (dir, clock, feed, task) = try await Self.startedTailer("auth-clock")
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/auth.log"))
        h.seekToEndOfFile()
        h.write(Data("Nov 30 10:00:00 vm sshd[7]: Failed password for root from 192.0.2.5 port 22 ssh2\n".utf8))
        try h.close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(feed.counts.lines == 0, "nothing read while the clock stands still")
        clock.advance(by: .seconds(1))
        try await eventually(timeout: 60, "the line read at the next tick") { feed.counts.lines == 1 }
        task.cancel()
        try await task.value
    }

    /// One tick reads the whole backlog, chunk after chunk, not one chunk of the tailer's
    /// 256 KiB (a 50,000 lines/s attack writes several a second). The tick's time budget is
    /// raised here so the figure does not depend on how fast this machine parses.
    @Test func oneTickReadsUntilCaughtUp() async throws {
        let (dir, clock, feed, task) = try await Self.startedTailer("auth-catchup", workPerTick: .seconds(600))
        // 8,000 lines of about 100 bytes: three chunks and more.
        let lines = (0..<8_000).map { "Nov 30 10:00:00 vm sshd[\($0)]: Failed password for root from 192.0.2.\($0 % 250) port 22 ssh2\n" }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/auth.log"))
        h.seekToEndOfFile()
        h.write(Data(lines.joined().utf8))
        try h.close()
        clock.advance(by: .seconds(1))
        try await eventually(timeout: 120, "the tick done") { clock.sleeping == 1 && feed.counts.lines > 0 }
        #expect(feed.counts.lines == 8_000, "one tick read \(feed.counts.lines) of 8,000 lines")
        task.cancel()
        try await task.value
    }
}
