import AgentCore
import Testing

/// The receiver's per-address limit on requests that fail before their signature verifies.
@Suite struct FailureLimiterTests {
    @Test func anAddressAtTheLimitWaitsForItsWindowToEnd() {
        var l = FailureLimiter(limit: 3, windowSeconds: 60)
        for t in [100, 101, 102] as [Int64] {
            #expect(l.refusal("198.51.100.7", now: t) == nil)
            #expect(l.failed("198.51.100.7", now: t) == (t == 102), "true only for the failure that reaches the limit")
        }
        #expect(l.refusal("198.51.100.7", now: 103) == 57, "the window started at 100")
        #expect(l.refusal("198.51.100.7", now: 159) == 1)
        #expect(l.refusal("203.0.113.9", now: 103) == nil, "other addresses are not affected")
        #expect(l.refusal("198.51.100.7", now: 160) == nil, "a new window")
        l.failed("198.51.100.7", now: 160)
        #expect(l.refusal("198.51.100.7", now: 161) == nil, "one failure in the new window")
    }

    @Test func failuresSpreadOverWindowsNeverReachTheLimit() {
        var l = FailureLimiter(limit: 3, windowSeconds: 60)
        for t in stride(from: Int64(0), to: 600, by: 30) {
            #expect(l.refusal("a", now: t) == nil)
            l.failed("a", now: t)
        }
    }

    @Test func zeroTurnsItOff() {
        var l = FailureLimiter(limit: 0)
        for t in 0..<1_000 as Range<Int64> { l.failed("a", now: t / 100) }
        #expect(l.refusal("a", now: 5) == nil && l.tracked == 0)
    }

    /// A flood of addresses keeps at most `maxAddresses`: ended windows go first, then the
    /// oldest; an address at its limit in a live window is kept while older ones go.
    @Test func trackingIsBounded() {
        var l = FailureLimiter(limit: 2, windowSeconds: 60, maxAddresses: 100)
        l.failed("limited", now: 1000)
        l.failed("limited", now: 1000)
        for i in 0..<100 { l.failed("old-\(i)", now: 900) }
        #expect(l.tracked <= 100)
        #expect(l.refusal("limited", now: 1001) != nil, "ended windows made room, the live one stayed")
        for i in 0..<5_000 { l.failed("new-\(i)", now: 1002 + Int64(i / 1000)) }
        #expect(l.tracked == 100)
    }
}
