import AgentServer
import Logging
@testable import ServerStore
import Synchronization
import Testing

/// `/healthz`'s probe of the database: one ping at a time shared by every caller, a bounded wait,
/// and `monitoring_server_database_up` following the answers.
@Suite struct StoreProbeTests {
    /// Holds every ping until `open()`; counts the pings.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>], pings: Int)>((false, [], 0))

        var pings: Int { state.withLock { $0.pings } }

        func ping() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let open = state.withLock { s -> Bool in
                    s.pings += 1
                    if !s.open { s.waiting.append(c) }
                    return s.open
                }
                if open { c.resume() }
            }
        }

        func open() {
            for c in state.withLock({ s in s.open = true; defer { s.waiting = [] }; return s.waiting }) { c.resume() }
        }
    }

    static func databaseUp(_ stats: ReceiverStats) -> Double? {
        String(decoding: stats.render(), as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("monitoring_server_database_up ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test(.timeLimit(.minutes(1))) func callersWhileAPingIsOutShareIt() async throws {
        let gate = Gate()
        let stats = ReceiverStats(version: "t")
        let probe = StoreProbe(location: "test", timeout: .seconds(30), stats: stats, logger: Logger(label: "t")) { await gate.ping() }
        let answers = await withTaskGroup(of: StoreProbe.Answer.self) { group in
            for _ in 0..<50 { group.addTask { await probe.check() } }
            while probe.waitingCount < 50 { try? await Task.sleep(for: .milliseconds(5)) }
            gate.open()
            return await group.reduce(into: [StoreProbe.Answer]()) { $0.append($1) }
        }
        #expect(answers.count == 50 && answers.allSatisfy(\.isUp))
        #expect(gate.pings == 1, "\(gate.pings) pings for 50 callers waiting together")
        #expect(Self.databaseUp(stats) == 1)
        #expect(await probe.check().isUp)
        #expect(gate.pings == 2, "a caller after the answer gets a new ping")
    }

    /// The ping is held until after the answer, so an answer at all shows the probe did not wait
    /// for the database (a probe that did would hang until the time limit fails it). How soon it
    /// answers is not asserted: under the whole suite the 2-core machine's task threads can be
    /// busy for seconds.
    @Test(.timeLimit(.minutes(1))) func aDatabaseThatHangsIsDownAfterTheTimeout() async throws {
        let gate = Gate()
        let stats = ReceiverStats(version: "t")
        let probe = StoreProbe(location: "test", timeout: .milliseconds(200), stats: stats, logger: Logger(label: "t")) { await gate.ping() }
        #expect(await probe.check() == .timedOut)
        #expect(Self.databaseUp(stats) == 0)
        gate.open()
        #expect(await probe.check().isUp)
        #expect(Self.databaseUp(stats) == 1)
    }

    @Test func aFailingPingIsDown() async throws {
        struct Refused: Error {}
        let fail = Mutex(true)
        let stats = ReceiverStats(version: "t")
        let probe = StoreProbe(location: "test", timeout: .seconds(5), stats: stats, logger: Logger(label: "t")) {
            if fail.withLock({ $0 }) { throw Refused() }
        }
        guard case .failed = await probe.check() else { Issue.record("a failing ping is .failed"); return }
        #expect(Self.databaseUp(stats) == 0)
        fail.withLock { $0 = false }
        #expect(await probe.check().isUp)
    }
}
