/// What to do after one send attempt. Computed in one place, tested as a pure value.
public enum SendOutcome: Sendable, Equatable {
    /// Transport failed before a response (refused, reset, timeout, TLS).
    case transportError
    /// The server answered with this status and optional Retry-After seconds.
    case status(Int, retryAfterSeconds: Double?)
}

public enum RetryDecision: Sendable, Equatable {
    case done
    /// Try again after this many seconds.
    case retry(after: Double)
    /// Retryable, but this cycle's attempts are used up: keep the payload for the next cycle.
    case keep
    /// The server rejected the payload for good (4xx other than 408/413/429): do not resend.
    case reject
    /// 413: too large for this server. Resend it smaller (`PayloadBudget`), never drop it whole.
    case shrink
}

/// Capped exponential backoff with full jitter: attempt n waits a random time in
/// [base*2^n / 2, min(cap, base*2^n)]. 2xx done; 408, 429, 5xx and transport errors retried,
/// honouring Retry-After (capped); 413 shrunk; other statuses rejected.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 8) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Whether this outcome is worth retrying at all.
    public static func isRetryable(_ outcome: SendOutcome) -> Bool {
        switch outcome {
        case .transportError: true
        case .status(let code, _): code == 408 || code == 429 || (500...599).contains(code)
        }
    }

    /// `attempt` counts from 0 (the first send). `unitRandom` is in [0, 1), injected for tests;
    /// it is drawn only when a backoff delay is computed (not on every successful send).
    public func decide(_ outcome: SendOutcome, attempt: Int, unitRandom: @autoclosure () -> Double) -> RetryDecision {
        if case .status(let code, _) = outcome, (200...299).contains(code) { return .done }
        if case .status(413, _) = outcome { return .shrink }
        guard Self.isRetryable(outcome) else { return .reject }
        guard attempt + 1 < maxAttempts else { return .keep }
        if case .status(_, let retryAfter?) = outcome, retryAfter >= 0 {
            return .retry(after: min(retryAfter, maxDelay))
        }
        let exp = min(maxDelay, baseDelay * Double(1 << min(attempt, 30)))
        return .retry(after: exp / 2 + exp / 2 * unitRandom())
    }

    /// Parses a Retry-After header: delta-seconds (RFC 9110: digits only) or an HTTP-date relative
    /// to `now`. Anything else (signs, fractions, exponents, `inf`, a year past 9999) is ignored.
    /// Delays beyond a day are held at a day; `decide` caps them further at `maxDelay`.
    public static func parseRetryAfter(_ value: String?, now: Int64) -> Double? {
        guard let raw = value else { return nil }
        let value = Substring(raw).trimmingSpaces()
        guard !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            // Leading zeros aside, more than 9 digits is already past the one-day hold.
            let digits = value.drop { $0 == "0" }
            guard digits.utf8.count <= 9 else { return maxRetryAfter }
            return min(Double(Int64(digits) ?? 0), maxRetryAfter)
        }
        if let date = HTTPDate.parse(String(value)) {
            let (delta, overflow) = date.subtractingReportingOverflow(now)
            return overflow ? nil : min(Double(max(0, delta)), maxRetryAfter)
        }
        return nil
    }

    /// The longest Retry-After taken from a server, seconds.
    public static let maxRetryAfter: Double = 86_400
}
