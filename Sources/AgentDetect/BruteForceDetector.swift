import AgentCore

/// Failed logins per source address in two sliding windows, and the logins that follow them.
///
/// - `BRUTE_FORCE:<addr>` while an address has `threshold` or more failures in the last
///   `windowSeconds`, or `slowThreshold` or more in the last `slowWindowSeconds` (attackers who
///   space their attempts, CrowdSec's ssh-slow-bf).
/// - `LOGIN_AFTER_FAILURES:<addr>` for a successful login from an address at or above
///   `threshold` failures in the window when it logged in: the brute force that worked. Raised in
///   the payload of the cycle the login was seen in.
/// - Probes (scans, bad banners) count as failures only with `countProbes`; they are shown in
///   the alert's detail either way.
///
/// Each window is 8 buckets of window/8 seconds (so its edge is exact to one bucket), each a
/// saturating UInt8 (up to 255 failures per bucket, 2,040 per window). Sources (IPv4, IPv6 and
/// host names alike, by `AddressKey`) live in one `BoundedTable` of at most `maxTracked` entries
/// (both windows, the services and probes in one 40-byte value; about 125 bytes per source with
/// the table's index, measured at the default cap): keyed hashing, so crafted addresses cannot
/// collide; one bounded eviction per new source when full, of a source below half the threshold
/// (else the one with the fewest failures) among those the sweep looks at, so a flood of
/// millions of one-failure addresses
/// costs the same per line as a quiet day and never pushes out an address attacking in earnest.
/// Evictions are counted in `evicted`.
public struct BruteForceDetector: Detector {
    public static let buckets = 8
    /// Highest count a window can hold (8 buckets of 255).
    public static let maxWindowCount = 8 * 255
    /// LOGIN_AFTER_FAILURES alerts kept for one cycle at most (logins come from log lines).
    public static let maxLoginsPerCycle = 256

    public let threshold: Int
    public let windowSeconds: Int
    public let slowThreshold: Int
    public let slowWindowSeconds: Int
    public let countProbes: Bool
    public let maxTracked: Int
    /// BRUTE_FORCE alerts listed per cycle at most, the worst first; the rest are counted in the
    /// findings' `omitted` (a flood of 100,000 addresses makes a list no payload can carry).
    public let maxAlerts: Int
    private let bucketSeconds: Int
    private let slowBucketSeconds: Int
    /// Every source by its key: IP addresses by their bits, host names by a keyed 128-bit hash
    /// of their text (`AddressKey.name`).
    private var sources: BoundedTable<AddressKey, SourceWindows>
    /// The text of the host names among `sources` (IP addresses are printed from their bits).
    private var names: [AddressKey: String] = [:]
    /// PAM services seen, by bit (bit 0 is sshd; the last bit stands for any further service).
    private var services = ServiceBits()
    /// The newest bucket seen, for deciding which sources are expendable when full.
    private var latestBucket: UInt32 = 1
    private var logins: [AlertDetail] = []
    public private(set) var loginsDropped = 0

    /// The default cap: 3/4 of 2^17, the most a `Dictionary` holds in 2^17 buckets (its load
    /// limit is 3/4), so the index never doubles for the last few entries.
    public static let defaultMaxTracked = 98_304

    public init(threshold: Int, windowSeconds: Int, slowThreshold: Int = 0, slowWindowSeconds: Int = 86_400,
                countProbes: Bool = false, maxTracked: Int = BruteForceDetector.defaultMaxTracked,
                maxAlerts: Int = .max) {
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.slowThreshold = slowThreshold
        self.slowWindowSeconds = max(windowSeconds, slowWindowSeconds)
        self.countProbes = countProbes
        self.maxTracked = maxTracked
        self.maxAlerts = max(1, maxAlerts)
        self.bucketSeconds = max(1, (windowSeconds + Self.buckets - 1) / Self.buckets)
        self.slowBucketSeconds = max(1, (self.slowWindowSeconds + Self.buckets - 1) / Self.buckets)
        self.sources = BoundedTable(capacity: maxTracked)
    }

    public var tracked: Int { sources.count }
    public var evicted: Int { sources.evicted }
    /// Host-name texts kept, and host-name sources tracked: always equal (a text leaves with its source).
    var namesHeld: Int { names.count }
    var nameSourcesTracked: Int {
        var n = 0
        sources.forEach { key, _ in if key.kind == .name { n += 1 } }
        return n
    }

    public var counters: [SourceCounter] {
        [SourceCounter("monitoring_agent_auth_sources_evicted_total",
                       "Sources the brute-force windows forgot at their tracking cap (the least active first)", evicted),
         SourceCounter("monitoring_agent_auth_logins_after_failures_dropped_total",
                       "LOGIN_AFTER_FAILURES alerts past the per-cycle cap, not raised", loginsDropped)]
    }

    /// Records `count` failures from `address` (text: IPv4, IPv6 or a host name) at `now`.
    public mutating func record(address: String, at now: Int64, count: Int = 1) {
        let s = AuthSourceAddress(address)
        record(s.key, hostName: s.hostName, at: now, count: count)
    }

    /// Records `count` failures from a parsed source at `now` (unix seconds). No String is made
    /// for IP addresses.
    public mutating func record(_ key: AddressKey, hostName: String?, at now: Int64, count: Int = 1, service: UInt16 = 1, probes: Int = 0) {
        guard count > 0 || probes > 0 else { return }
        let b = bucket(now), sb = slowBucket(now)
        latestBucket = max(latestBucket, b)
        let latest = latestBucket, half = threshold / 2
        if count == 0, sources[key] == nil { return } // a probe alone does not take a slot
        // Sources below half the threshold are equally expendable (rank 0 ends the eviction
        // sweep at the first untouched one); above it, the fewest failures go first.
        var goneName: AddressKey?
        sources.update(key, default: { SourceWindows(fast: WindowCounts(newest: b, counts: 0), slow: WindowCounts(newest: sb, counts: 0)) },
                       rank: { w in let n = w.fast.total(at: latest); return n < half ? 0 : n },
                       evicting: { k, _ in if k.kind == .name { goneName = k } }) { w in
            if count > 0 {
                w.fast.add(bucket: b, count: count)
                w.slow.add(bucket: sb, count: count)
                w.services |= service
            }
            w.probes = UInt16(min(Int(w.probes) + probes, Int(UInt16.max)))
        }
        if let gone = goneName { names[gone] = nil }
        if key.kind == .name, names[key] == nil { names[key] = hostName ?? "?" }
    }

    /// Addresses at or above either threshold now, sorted.
    public func offenders(at now: Int64) -> [String] {
        offending(at: now, limit: .max).kept.map(\.source).sorted()
    }

    /// The `limit` worst sources at or above either threshold (most failures in the short
    /// window, then the long one), worst first, and how many more there were. Text is made only
    /// for the sources kept.
    private func offending(at now: Int64, limit: Int) -> (kept: [Offender], leftOut: Int) {
        let b = bucket(now), sb = slowBucket(now)
        let threshold = threshold, slowThreshold = slowThreshold
        var worst = WorstFirst<(key: AddressKey, fast: Int, slow: Int, w: SourceWindows)>(limit: limit) { a, b in
            (a.fast, a.slow, b.key.hi, b.key.lo, b.key.kind.rawValue) > (b.fast, b.slow, a.key.hi, a.key.lo, a.key.kind.rawValue)
        }
        sources.forEach { key, w in
            let fast = w.fast.total(at: b)
            let slow = slowThreshold > 0 ? w.slow.total(at: sb) : 0
            if fast >= threshold || (slowThreshold > 0 && slow >= slowThreshold) {
                worst.offer((key, fast, slow, w))
            }
        }
        let kept = worst.sorted().map { Offender(source: $0.key.ipText ?? names[$0.key] ?? "?", fast: $0.fast, slow: $0.slow, w: $0.w) }
        // Among equals, by address text: the order a reader expects.
        return (kept.sorted { ($1.fast, $1.slow, $0.source) < ($0.fast, $0.slow, $1.source) }, worst.leftOut)
    }

    /// Forgets the sources with no failures left in either window at `now`.
    public mutating func forgetQuiet(at now: Int64) {
        let b = bucket(now), sb = slowBucket(now)
        latestBucket = max(latestBucket, b)
        let slow = slowThreshold > 0
        var forgotten: [AddressKey] = []
        sources.removeAll { key, w in
            let quiet = w.fast.total(at: b) == 0 && (!slow || w.slow.total(at: sb) == 0)
            if quiet, key.kind == .name { forgotten.append(key) }
            return quiet
        }
        for key in forgotten { names[key] = nil }
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        // By index: a tally is read in place, not copied (with its strings) for every line.
        let auth = batch.auth
        for i in auth.indices {
            let probes = auth[i].probes
            let failures = auth[i].failures + (countProbes ? probes : 0)
            if failures > 0 || probes > 0 {
                record(auth[i].source.key, hostName: auth[i].source.hostName, at: now, count: failures,
                       service: failures > 0 ? services.bit(for: auth[i].service) : 0, probes: probes)
            }
            if auth[i].accepted { login(auth[i], at: now) }
        }
    }

    /// A successful login: an alert when its source had reached the threshold in the window.
    private mutating func login(_ t: AuthTally, at now: Int64) {
        guard let w = sources[t.source.key] else { return }
        let failures = w.fast.total(at: bucket(now))
        guard failures >= threshold else { return }
        guard logins.count < Self.maxLoginsPerCycle else { loginsDropped += 1; return }
        var d = AlertDetail(auth: .loginAfterFailures, source: t.source.text, failures: failures, windowSeconds: windowSeconds,
                            user: t.user.map { AlertText.bounded($0) })
        d.method = t.method?.rawValue
        d.services = services.names(w.services)
        logins.append(d)
    }

    public func findings(at now: Int64) -> Findings {
        var f = Findings()
        // Worst first (most failures in the short window, then the long one): when a flood's
        // alerts do not all fit in a payload, the ones kept are the heaviest attackers.
        let (offenders, leftOut) = offending(at: now, limit: maxAlerts)
        if leftOut > 0 { f.omitted[.bruteForce] = leftOut }
        for o in offenders {
            f.alerts.append(Alert(.bruteForce, subject: o.source))
            let slowOnly = o.fast < threshold
            var d = AlertDetail(auth: .bruteForce, source: o.source, failures: slowOnly ? o.slow : o.fast,
                                windowSeconds: slowOnly ? slowWindowSeconds : windowSeconds)
            d.services = services.names(o.w.services)
            if o.w.probes > 0 { d.probes = Int(o.w.probes) }
            f.details.append(d)
        }
        for d in logins {
            f.alerts.append(Alert(.loginAfterFailures, subject: d.source))
            f.details.append(d)
        }
        return f
    }

    public mutating func endCycle(at now: Int64) {
        forgetQuiet(at: now)
        logins.removeAll(keepingCapacity: true)
    }

    private func bucket(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(1, now / Int64(bucketSeconds)))
    }

    private func slowBucket(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(1, now / Int64(slowBucketSeconds)))
    }
}

/// A source at or above a threshold, as an alert names it.
private struct Offender {
    var source: String
    var fast: Int
    var slow: Int
    var w: SourceWindows
}

/// One source: both windows, the services its failures came from (a `ServiceBits` mask) and
/// its probes while tracked.
struct SourceWindows: Sendable, Equatable {
    var fast: WindowCounts
    var slow: WindowCounts
    var services: UInt16 = 0
    var probes: UInt16 = 0
}

/// Names of the services failures came from, as bits: sshd is bit 0, PAM services take the
/// next bits in the order first seen, and bit 15 stands for every service past the 14th (service
/// names come from log lines any local user can write, so the set is bounded).
struct ServiceBits: Sendable {
    private(set) var names: [String] = ["sshd"]

    mutating func bit(for service: String?) -> UInt16 {
        guard let service else { return 1 }
        if let i = names.firstIndex(of: service) { return 1 << UInt16(i) }
        guard names.count < 15 else { return 1 << 15 }
        names.append(AlertText.bounded(service, max: 32))
        return 1 << UInt16(names.count - 1)
    }

    func names(_ mask: UInt16) -> [String]? {
        guard mask != 0 else { return nil }
        var out: [String] = []
        for (i, n) in names.enumerated() where mask & (1 << UInt16(i)) != 0 { out.append(n) }
        if mask & (1 << 15) != 0 { out.append("other") }
        return out
    }
}

/// Text from log lines going into an alert: bounded in length (user names and services are
/// attacker-chosen).
public enum AlertText {
    public static func bounded(_ s: String, max: Int = 64) -> String {
        s.utf8.count <= max ? s : String(decoding: s.utf8.prefix(max), as: UTF8.self)
    }
}

/// One address's window: the newest bucket index and 8 one-byte counts (bucket i in byte i).
struct WindowCounts: Sendable, Equatable {
    var newest: UInt32
    var counts: UInt64

    /// Moves the window to bucket `b` and adds `count` to it (saturating at 255).
    @inline(__always)
    mutating func add(bucket b: UInt32, count: Int) {
        if b > newest {
            let steps = min(UInt32(BruteForceDetector.buckets), b - newest)
            for k in 1...steps { counts &= ~(0xFF << (UInt64((newest &+ k) % 8) * 8)) }
            newest = b
        }
        guard b + 7 >= newest else { return } // older than the window
        let shift = UInt64(b % 8) * 8
        let now = (counts >> shift) & 0xFF
        counts = counts & ~(0xFF << shift) | (min(now + UInt64(count), 255) << shift)
    }

    /// Failures in the window ending at bucket `b`.
    @inline(__always)
    func total(at b: UInt32) -> Int {
        guard b < newest + 8 else { return 0 }
        var c = counts
        if b > newest { for k in 1...(b - newest) { c &= ~(0xFF << (UInt64((newest &+ k) % 8) * 8)) } }
        var sum = 0
        for k in 0..<8 { sum += Int((c >> (UInt64(k) * 8)) & 0xFF) }
        return sum
    }
}
