/// What `PayloadBudget.fit` left out of one payload to keep it within the byte budget.
public struct PayloadTrim: Sendable, Equatable {
    /// Container log lines cut (the newest of the payload's lines go first).
    public var logs = 0
    /// Container events cut.
    public var events = 0
    /// Alerts left out of `local_alerts` (each rule's count is in a summary entry of `alerts_detail`).
    public var alerts = 0

    public init(logs: Int = 0, events: Int = 0, alerts: Int = 0) {
        self.logs = logs
        self.events = events
        self.alerts = alerts
    }

    public var isEmpty: Bool { logs == 0 && events == 0 && alerts == 0 }
}

/// Keeps a payload's JSON within a byte budget while it is built, so no payload is ever too large
/// for the server (a 413 would lose everything in it). What goes, in order: container log lines,
/// then container events, then alerts past what fits, which are summarised per rule in
/// `alerts_detail` (`{"omitted":N,"rule":R,"total":T}`) while `score` still sums every alert.
/// Metrics and identity are never cut. Each step finds the most that fits by binary search over
/// encodings, so a payload that fits costs one encoding and one that does not a few dozen.
public enum PayloadBudget {
    public static func fit(_ payload: Payload, maxBytes: Int) throws(AgentError) -> (body: [UInt8], trim: PayloadTrim) {
        var p = payload
        var body = try PayloadJSON.encode(p)
        var trim = PayloadTrim()
        guard body.count > maxBytes else { return (body, trim) }

        trim.logs = try cut(\.logs, of: &p, maxBytes: maxBytes)
        body = try PayloadJSON.encode(p)
        guard body.count > maxBytes else { return (body, trim) }

        trim.events = try cut(\.dockerEvents, of: &p, maxBytes: maxBytes)
        body = try PayloadJSON.encode(p)
        guard body.count > maxBytes else { return (body, trim) }

        func rule(_ alert: String) -> AlertRule? { AlertRule(rawValue: String(alert.prefix { $0 != ":" })) }
        let alerts = interleaved(p.localAlerts, rule: rule)
        let rules = alerts.map(rule)
        // Summaries already in the payload (alerts its detectors raised but did not list) are
        // merged with what is cut here: one summary per rule, its counts the sum.
        var earlier: [AlertRule: Int] = [:]
        for d in p.alertsDetail where d.omitted != nil { earlier[d.rule, default: 0] += d.omitted ?? 0 }
        let details = interleaved(p.alertsDetail.filter { $0.omitted == nil }) { $0.rule }
        func summarised(_ n: Int) -> Payload {
            var q = p
            q.localAlerts = Array(alerts.prefix(n))
            q.alertsDetail = Array(details.prefix(n)) + AlertDetail.summaries(rules: rules, listing: n, earlier: earlier)
            return q
        }
        // No more than what fits with every alert and detail at its own size and nothing else
        // around them (the summaries only add bytes): the search below then encodes payloads of
        // about the budget, never a document of every alert (a flood's can be 15 MB).
        var bare = p
        bare.localAlerts = []
        bare.alertsDetail = []
        // (+1 a list: its first element has no comma before it.)
        var room = maxBytes - (try PayloadJSON.encode(bare)).count + 1 + (details.isEmpty ? 0 : 1)
        let sizes = PayloadJSON.sizes(alerts: alerts, details: details)
        var bound = 0
        while bound < alerts.count {
            room -= sizes.alerts[bound] + 1 + (bound < details.count ? sizes.details[bound] + 1 : 0)
            if room < 0 { break }
            bound += 1
        }
        let keptAlerts = try largest(bound) { n throws(AgentError) in
            try PayloadJSON.encode(summarised(n)).count <= maxBytes
        }
        p = summarised(keptAlerts)
        trim.alerts = alerts.count - keptAlerts
        return (try PayloadJSON.encode(p), trim)
    }

    /// The order alerts are kept in when not all fit: one of each rule in turn, the heaviest rule
    /// first, each rule's own order kept (its detector puts the worst first). So a flood of one
    /// rule cannot push another rule out of the payload, and a login after failures (the heaviest)
    /// is the last thing cut. Items of no known rule come last.
    static func interleaved<T>(_ items: [T], rule: (T) -> AlertRule?) -> [T] {
        var byRule: [AlertRule: [T]] = [:]
        var order: [AlertRule] = []
        var unknown: [T] = []
        for item in items {
            guard let r = rule(item) else { unknown.append(item); continue }
            if byRule[r] == nil { order.append(r) }
            byRule[r, default: []].append(item)
        }
        guard order.count > 1 else { return items }
        order = order.enumerated().sorted { ($1.element.weight, $0.offset) < ($0.element.weight, $1.offset) }.map(\.element)
        var out: [T] = []
        out.reserveCapacity(items.count)
        var round = 0
        while out.count < items.count - unknown.count {
            for r in order where round < byRule[r]!.count { out.append(byRule[r]![round]) }
            round += 1
        }
        return out + unknown
    }

    /// Keeps the longest prefix of the list at `path` with which `p` fits; returns how many went.
    static func cut<T>(_ path: WritableKeyPath<Payload, [T]>, of p: inout Payload, maxBytes: Int) throws(AgentError) -> Int {
        let all = p[keyPath: path]
        var probe = p
        let kept = try largest(all.count) { n throws(AgentError) in
            probe[keyPath: path] = Array(all.prefix(n))
            return try PayloadJSON.encode(probe).count <= maxBytes
        }
        p[keyPath: path] = Array(all.prefix(kept))
        return all.count - kept
    }

    /// The largest n in 0...count with `fits(n)`, for a `fits` that holds up to some n and not
    /// beyond (0 when none does).
    static func largest(_ count: Int, _ fits: (Int) throws(AgentError) -> Bool) throws(AgentError) -> Int {
        var lo = 0, hi = count // fits(lo) assumed; answer in lo...hi
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if try fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}
