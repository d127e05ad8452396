import AgentCore

/// `USER_ENUMERATION:<addr>`: at least `threshold` distinct invalid user names from one source
/// in the window (CrowdSec's ssh-bf_user-enum): someone working through a list of account names.
/// The detail names a few of them.
public struct UserEnumerationDetector: Detector {
    public static let defaultMaxSources = 16_384
    private var window: DistinctWindow<AddressKey>
    private var names: [AddressKey: String] = [:]
    public let windowSeconds: Int

    public init(threshold: Int, windowSeconds: Int, maxSources: Int = UserEnumerationDetector.defaultMaxSources) {
        self.window = DistinctWindow(limit: threshold, windowSeconds: windowSeconds, maxKeys: maxSources)
        self.windowSeconds = windowSeconds
    }

    public var tracked: Int { window.count }
    public var evicted: Int { window.evicted }

    public var counters: [SourceCounter] {
        [SourceCounter("monitoring_agent_user_enumeration_sources_evicted_total",
                       "Sources user enumeration forgot at its tracking cap", evicted)]
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        // By index: a tally is read in place, not copied (with its strings) for every line.
        let auth = batch.auth
        for i in auth.indices where auth[i].invalidUser && auth[i].failures > 0 {
            let user = auth[i].user ?? ""
            let key = auth[i].source.key
            window.record(key, item: KeyedHash.of(user), sample: user, at: now)
            if key.kind == .name { names[key] = auth[i].source.hostName }
        }
    }

    public func findings(at now: Int64) -> Findings {
        var f = Findings()
        for o in window.offenders(at: now) {
            let source = o.key.ipText ?? names[o.key] ?? "?"
            f.alerts.append(Alert(.userEnumeration, subject: source))
            var d = AlertDetail(auth: .userEnumeration, source: source, windowSeconds: windowSeconds)
            d.distinct = o.distinct
            d.samples = o.samples
            f.details.append(d)
        }
        f.alerts.sort { ($0.subject ?? "") < ($1.subject ?? "") }
        f.details.sort { ($0.source ?? "") < ($1.source ?? "") }
        return f
    }

    public mutating func endCycle(at now: Int64) {
        window.forgetQuiet(at: now)
        if !names.isEmpty { names = names.filter { window.table[$0.key] != nil } }
    }
}

/// `DISTRIBUTED_BRUTE_FORCE:<user>`: one existing account failing from at least `threshold`
/// distinct sources in the window, each perhaps below the per-source threshold: a botnet sharing
/// the work. Invalid user names are left out (every internet-facing host sees `admin` tried
/// from everywhere; what matters is an account that exists). The detail names a few sources.
public struct DistributedBruteForceDetector: Detector {
    public static let defaultMaxAccounts = 4_096
    private var window: DistinctWindow<String>
    public let windowSeconds: Int

    public init(threshold: Int, windowSeconds: Int, maxAccounts: Int = DistributedBruteForceDetector.defaultMaxAccounts) {
        self.window = DistinctWindow(limit: threshold, windowSeconds: windowSeconds, maxKeys: maxAccounts)
        self.windowSeconds = windowSeconds
    }

    public var tracked: Int { window.count }
    public var evicted: Int { window.evicted }

    public var counters: [SourceCounter] {
        [SourceCounter("monitoring_agent_distributed_accounts_evicted_total",
                       "Accounts distributed brute force forgot at its tracking cap", evicted)]
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        let auth = batch.auth
        for i in auth.indices where !auth[i].invalidUser && auth[i].failures > 0 && auth[i].service == nil {
            guard let user = auth[i].user, !user.isEmpty else { continue }
            var h = Hasher()
            h.combine(auth[i].source.key)
            window.record(AlertText.bounded(user), item: UInt64(bitPattern: Int64(h.finalize())), sample: auth[i].source.text, at: now)
        }
    }

    public func findings(at now: Int64) -> Findings {
        var f = Findings()
        for o in window.offenders(at: now).sorted(by: { $0.key < $1.key }) {
            f.alerts.append(Alert(.distributedBruteForce, subject: o.key))
            var d = AlertDetail(auth: .distributedBruteForce, source: nil, windowSeconds: windowSeconds, user: o.key)
            d.distinct = o.distinct
            d.samples = o.samples
            f.details.append(d)
        }
        return f
    }

    public mutating func endCycle(at now: Int64) {
        window.forgetQuiet(at: now)
    }
}
