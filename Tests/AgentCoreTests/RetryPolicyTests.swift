@testable import AgentCore
import Testing

@Suite struct RetryPolicyTests {
    let p = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 8)

    @Test(arguments: [200, 201, 204, 299])
    func successIsDone(_ code: Int) {
        #expect(p.decide(.status(code, retryAfterSeconds: nil), attempt: 0, unitRandom: 0.5) == .done)
    }

    @Test(arguments: [400, 401, 403, 404, 409, 422])
    func otherClientErrorsAreRejected(_ code: Int) {
        #expect(p.decide(.status(code, retryAfterSeconds: nil), attempt: 0, unitRandom: 0.5) == .reject)
    }

    /// 413 is neither retried as it is nor dropped: the payload is resent smaller.
    @Test func tooLargeIsShrunk() {
        #expect(p.decide(.status(413, retryAfterSeconds: nil), attempt: 0, unitRandom: 0.5) == .shrink)
        #expect(p.decide(.status(413, retryAfterSeconds: nil), attempt: 9, unitRandom: 0.5) == .shrink)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func retryableStatuses(_ code: Int) {
        guard case .retry = p.decide(.status(code, retryAfterSeconds: nil), attempt: 0, unitRandom: 0.5) else {
            Issue.record("\(code) not retried"); return
        }
    }

    @Test func backoffIsExponentialCappedAndJittered() {
        // Full range at attempt n: [d/2, d] with d = min(8, 0.5 * 2^n).
        #expect(p.decide(.transportError, attempt: 0, unitRandom: 0) == .retry(after: 0.25))
        #expect(p.decide(.transportError, attempt: 0, unitRandom: 1) == .retry(after: 0.5))
        #expect(p.decide(.transportError, attempt: 2, unitRandom: 0) == .retry(after: 1))
        #expect(p.decide(.transportError, attempt: 3, unitRandom: 0.5) == .retry(after: 3))
        let big = RetryPolicy(maxAttempts: 100, baseDelay: 0.5, maxDelay: 8)
        #expect(big.decide(.transportError, attempt: 40, unitRandom: 1) == .retry(after: 8), "capped")
    }

    @Test func retryAfterIsHonouredAndCapped() {
        #expect(p.decide(.status(429, retryAfterSeconds: 2), attempt: 0, unitRandom: 0.9) == .retry(after: 2))
        #expect(p.decide(.status(503, retryAfterSeconds: 3600), attempt: 0, unitRandom: 0.9) == .retry(after: 8))
    }

    @Test func attemptsRunOut() {
        #expect(p.decide(.status(503, retryAfterSeconds: nil), attempt: 4, unitRandom: 0) == .keep)
        #expect(p.decide(.status(400, retryAfterSeconds: nil), attempt: 4, unitRandom: 0) == .reject)
    }

    @Test func parsesRetryAfter() {
        #expect(RetryPolicy.parseRetryAfter("120", now: 0) == 120)
        #expect(RetryPolicy.parseRetryAfter(" 5 ", now: 0) == 5)
        #expect(RetryPolicy.parseRetryAfter("Wed, 15 Jan 2025 10:30:10 GMT", now: 1_736_937_000) == 10)
        #expect(RetryPolicy.parseRetryAfter("soon", now: 0) == nil)
        #expect(RetryPolicy.parseRetryAfter("-3", now: 0) == nil)
        #expect(RetryPolicy.parseRetryAfter(nil, now: 0) == nil)
    }
}

@Suite struct RetryRandomnessTests {
    /// The jitter is drawn only for a backoff: a delivered or rejected payload costs no
    /// getrandom(2) call (the shipper's `random()` reads the system generator).
    @Test func drawsNoRandomNumberUnlessItBacksOff() {
        let p = RetryPolicy()
        var drawn = 0
        func draw() -> Double { drawn += 1; return 0.5 }
        #expect(p.decide(.status(200, retryAfterSeconds: nil), attempt: 0, unitRandom: draw()) == .done)
        #expect(p.decide(.status(422, retryAfterSeconds: nil), attempt: 0, unitRandom: draw()) == .reject)
        #expect(p.decide(.status(429, retryAfterSeconds: 2), attempt: 0, unitRandom: draw()) == .retry(after: 2))
        #expect(drawn == 0)
        guard case .retry = p.decide(.transportError, attempt: 0, unitRandom: draw()) else { Issue.record("no retry"); return }
        #expect(drawn == 1)
    }
}
