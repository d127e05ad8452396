/// Per client address, how many requests failed before their signature verified (a bad
/// signature or timestamp, a broken, oversized or unknown encoding), in fixed windows. An address
/// at `limit` is refused before its body is read until its window ends: verifying is the costly
/// part (a 4 KB gzip body decodes to 4 MB, hashed once per key), and an address that keeps failing
/// is either misconfigured or hostile. Bounded: at most `maxAddresses` are tracked; a new one
/// beyond that first makes room from ended windows, then from the window that started first.
public struct FailureLimiter: Sendable {
    public let limit: Int
    public let windowSeconds: Int64
    public let maxAddresses: Int
    private var entries: [String: (count: Int, start: Int64)] = [:]

    /// `limit` 0 turns the limiter off.
    public init(limit: Int, windowSeconds: Int64 = 60, maxAddresses: Int = 10_000) {
        precondition(limit >= 0 && windowSeconds > 0 && maxAddresses > 0)
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.maxAddresses = maxAddresses
    }

    public var tracked: Int { entries.count }

    /// Seconds until `address` may send again (at least 1), or nil when it may now.
    public mutating func refusal(_ address: String, now: Int64) -> Int64? {
        guard limit > 0, let e = entries[address] else { return nil }
        let end = e.start + windowSeconds
        if now >= end {
            entries[address] = nil
            return nil
        }
        return e.count >= limit ? max(1, end - now) : nil
    }

    /// Counts one failed request from `address`; true when this one brought it to the limit
    /// (it is refused from now until its window ends).
    @discardableResult
    public mutating func failed(_ address: String, now: Int64) -> Bool {
        guard limit > 0 else { return false }
        if let e = entries[address], now < e.start + windowSeconds {
            entries[address] = (e.count + 1, e.start)
            return e.count + 1 == limit
        }
        if entries[address] == nil, entries.count >= maxAddresses { makeRoom(now: now) }
        entries[address] = (1, now)
        return limit == 1
    }

    private mutating func makeRoom(now: Int64) {
        entries = entries.filter { now < $0.value.start + windowSeconds }
        if entries.count >= maxAddresses, let oldest = entries.min(by: { $0.value.start < $1.value.start })?.key {
            entries[oldest] = nil
        }
    }
}
