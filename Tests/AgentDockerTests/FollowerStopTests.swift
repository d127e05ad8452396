@testable import AgentDocker
import Synchronization
import Testing

/// The signal that ends one log follower: it closes the connection being read, whichever of the
/// stop and the connection's opening comes first.
@Suite struct FollowerStopTests {
    final class Calls: Sendable {
        let names = Mutex<[String]>([])
        func action(_ name: String) -> @Sendable () -> Void { { self.names.withLock { $0.append(name) } } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func stopRunsTheCurrentReadsActionOnce() {
        let calls = Calls()
        let s = FollowerStop()
        #expect(!s.isStopped)
        s.whenStopped(calls.action("first read"))
        s.whenStopped(calls.action("second read"))
        s.stop()
        s.stop()
        #expect(s.isStopped)
        #expect(calls.all == ["second read"], "only the read in progress is closed, once")
    }

    /// A connection that opens after the stop is closed at once.
    @Test func aReadRegisteredAfterTheStopIsEndedAtOnce() {
        let calls = Calls()
        let s = FollowerStop()
        s.stop()
        #expect(calls.all.isEmpty)
        s.whenStopped(calls.action("late"))
        #expect(calls.all == ["late"])
    }

    @Test func quietMeansNoDataForTheWholeSpan() async throws {
        let s = FollowerStop()
        #expect(!s.quiet(for: .seconds(60)))
        try await Task.sleep(for: .milliseconds(30))
        #expect(s.quiet(for: .milliseconds(20)))
        s.touch()
        #expect(!s.quiet(for: .milliseconds(20)))
    }
}
