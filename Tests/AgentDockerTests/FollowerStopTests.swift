@testable import AgentDocker
import Testing

/// The signal that ends one log follower inside the session's task group.
@Suite struct FollowerStopTests {
    @Test func stopReleasesTheWaiterWhetherItCameFirstOrNot() async {
        let early = FollowerStop()
        early.stop()
        await early.wait() // returns: the stop came before the wait

        let late = FollowerStop()
        let waiting = Task { await late.wait() }
        late.stop()
        await waiting.value
    }

    /// The follower ended first: its sibling's wait is cancelled and must not hang, even when
    /// the cancellation comes before the wait began.
    @Test func cancellationEndsTheWaitAtAnyMoment() async {
        let s = FollowerStop()
        let before = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await s.wait()
        }
        await before.value
        let during = Task { await FollowerStop().wait() }
        during.cancel()
        await during.value
    }

    /// Stopping twice is stopping once, before or after the wait began.
    @Test func aSecondStopChangesNothing() async {
        let s = FollowerStop()
        s.stop()
        s.stop()
        await s.wait()
        s.stop()
        await s.wait()
    }
}
