/// Reads a payload straight from its JSON bytes: what the receiver does with every request
/// body, so it is the server's per-payload parse (through Foundation's JSONDecoder that parse is
/// about a quarter of the server's CPU).
///
/// It accepts JSON as RFC 8259 writes it, everywhere in the document, values of unknown keys
/// included: the body is stored as it came (PostgreSQL's `jsonb`), so a body that is not JSON
/// must be refused here, where the agent is told (400), not fail in the store, where it would be
/// retried for ever. For every document it accepts, JSONDecoder gives the same `Payload` (the
/// tests and the `payload-decode` fuzz target compare the two): keys in any order, unknown keys
/// skipped, integers may be written as exact decimals (`37.0`,
/// `3.7e1`), a number that is infinite as a Double or rounds to zero from a non-zero value is
/// refused, `\u0000` is kept, an unpaired surrogate escape and invalid UTF-8 are refused.
/// JSONDecoder accepts more: what is not JSON (a comma before a closing bracket, a byte order mark,
/// any bytes in a string or a number it skips) and a key of the payload twice in one object
/// (it keeps the first; refused here), and it refuses some zeros written with an exponent
/// (`0e5`), which this reads as 0. Nesting is bounded (`maxDepth`), so no input can exhaust the stack.
struct PayloadReader {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0
    /// Nesting allowed in skipped values (JSONDecoder refuses a little over 500 levels).
    static let maxDepth = 256

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    static func decode(_ bytes: [UInt8]) throws(Failure) -> Payload {
        let result: Result<Payload, Failure> = bytes.withUnsafeBufferPointer { buffer in
            var r = PayloadReader(buffer)
            do throws(Failure) { return .success(try r.document()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func fail(_ what: String) -> Failure {
        Failure(description: "\(what) at byte \(i)")
    }

    // MARK: the payload

    private mutating func document() throws(Failure) -> Payload {
        let p = try payload()
        skipSpace()
        guard i == b.count else { throw fail("data after the payload") }
        return p
    }

    /// Which keys of an object were read.
    private struct Seen {
        var bits: UInt32 = 0
        func has(_ k: Int) -> Bool { bits & (1 << UInt32(k)) != 0 }
    }

    /// A key the payload reads may appear once in its object: with two, the stored body (where
    /// `jsonb` keeps the last) and the rows (JSONDecoder kept the first) could tell different stories.
    private func once(_ key: Int, _ seen: inout Seen) throws(Failure) {
        guard !seen.has(key) else { throw fail("a key appears twice") }
        seen.bits |= 1 << UInt32(key)
    }

    private static let payloadKeys: [[UInt8]] = ["payload_id", "agent_version", "host", "server_id", "env", "owner_team", "timestamp",
                                                 "metrics", "docker_events", "logs", "local_alerts", "alerts_detail", "score",
                                                 "simulated"].map { Array($0.utf8) }

    private mutating func payload() throws(Failure) -> Payload {
        var strings = [String](repeating: "", count: 7)
        var metrics: HostMetrics?
        var events = [DockerEvent](), logs = [LogEntry](), alerts = [String](), details = [AlertDetail]()
        var score = 0.0, simulated: Bool?
        var seen = Seen()
        try object(keys: Self.payloadKeys) { (r: inout PayloadReader, key: Int?) throws(Failure) in
            guard let key else { try r.skipValue(); return }
            try r.once(key, &seen)
            switch key {
            case 0...6: strings[key] = try r.string()
            case 7: metrics = try r.metrics()
            case 8: events = try r.array { (r: inout PayloadReader) throws(Failure) in try r.event() }
            case 9: logs = try r.array { (r: inout PayloadReader) throws(Failure) in try r.logEntry() }
            case 10: alerts = try r.array { (r: inout PayloadReader) throws(Failure) in try r.string() }
            case 11: details = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in
                try r.array { (r: inout PayloadReader) throws(Failure) in try r.detail() }
            } ?? []
            case 12: score = try r.double()
            default: simulated = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in try r.bool() }
            }
        }
        for k in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12] where !seen.has(k) {
            throw fail("missing key \(String(decoding: Self.payloadKeys[k], as: UTF8.self))")
        }
        guard let metrics else { throw fail("missing key metrics") }
        var p = Payload(payloadID: strings[0], agentVersion: strings[1], host: strings[2], serverID: strings[3], env: strings[4],
                        ownerTeam: strings[5], timestamp: strings[6], metrics: metrics)
        p.dockerEvents = events
        p.logs = logs
        p.localAlerts = alerts
        p.alertsDetail = details
        p.score = score
        p.simulated = simulated
        return p
    }

    private static let metricKeys: [[UInt8]] = ["cpu_usage", "memory_usage", "disk_usage", "network_rx_bytes_per_sec",
                                                "network_tx_bytes_per_sec", "tcp_connections"].map { Array($0.utf8) }

    private mutating func metrics() throws(Failure) -> HostMetrics {
        var v = [Double?](repeating: nil, count: 5)
        var tcp: Int?
        var seen = Seen()
        try object(keys: Self.metricKeys) { (r: inout PayloadReader, key: Int?) throws(Failure) in
            guard let key else { try r.skipValue(); return }
            try r.once(key, &seen)
            if key == 5 {
                tcp = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in try r.int() }
            } else {
                v[key] = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in try r.double() }
            }
        }
        return HostMetrics(cpuUsage: v[0], memoryUsage: v[1], diskUsage: v[2], networkRxBytesPerSec: v[3],
                           networkTxBytesPerSec: v[4], tcpConnections: tcp)
    }

    private static let eventKeys: [[UInt8]] = ["type", "action", "container", "image", "timestamp"].map { Array($0.utf8) }

    private mutating func event() throws(Failure) -> DockerEvent {
        let s = try stringRecord(Self.eventKeys, what: "docker event")
        return DockerEvent(type: s[0], action: s[1], container: s[2], image: s[3], timestamp: s[4])
    }

    private static let logKeys: [[UInt8]] = ["container", "message", "timestamp"].map { Array($0.utf8) }

    private mutating func logEntry() throws(Failure) -> LogEntry {
        let s = try stringRecord(Self.logKeys, what: "log entry")
        return LogEntry(container: s[0], message: s[1], timestamp: s[2])
    }

    /// An object whose keys are all required strings.
    private mutating func stringRecord(_ keys: [[UInt8]], what: String) throws(Failure) -> [String] {
        var s = [String](repeating: "", count: keys.count)
        var seen = Seen()
        try object(keys: keys) { (r: inout PayloadReader, key: Int?) throws(Failure) in
            guard let key else { try r.skipValue(); return }
            try r.once(key, &seen)
            s[key] = try r.string()
        }
        for k in keys.indices where !seen.has(k) { throw fail("\(what) without \(String(decoding: keys[k], as: UTF8.self))") }
        return s
    }

    private static let detailKeys: [[UInt8]] = ["rule", "container", "image", "command", "user", "errors", "total", "omitted",
                                                "source", "failures", "probes", "window_seconds", "services", "method", "distinct",
                                                "samples"].map { Array($0.utf8) }

    private mutating func detail() throws(Failure) -> AlertDetail {
        var rule: AlertRule?
        var s = [String?](repeating: nil, count: 16)
        var n = [Int?](repeating: nil, count: 16)
        var services: [String]?, samples: [String]?
        var seen = Seen()
        try object(keys: Self.detailKeys) { (r: inout PayloadReader, key: Int?) throws(Failure) in
            guard let key else { try r.skipValue(); return }
            try r.once(key, &seen)
            func strings(_ r: inout PayloadReader) throws(Failure) -> [String]? {
                try r.ifPresent { (r: inout PayloadReader) throws(Failure) in
                    try r.array { (r: inout PayloadReader) throws(Failure) in try r.string() }
                }
            }
            switch key {
            case 0:
                let at = r.i
                guard let known = AlertRule(rawValue: try r.string()) else { throw Failure(description: "unknown alert rule at byte \(at)") }
                rule = known
            case 1, 2, 3, 4, 8, 13: s[key] = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in try r.string() }
            case 12: services = try strings(&r)
            case 15: samples = try strings(&r)
            default: n[key] = try r.ifPresent { (r: inout PayloadReader) throws(Failure) in try r.int() }
            }
        }
        guard let rule else { throw fail("alert detail without rule") }
        var d = AlertDetail(rule: rule, container: s[1], image: s[2], command: s[3], user: s[4], errors: n[5], total: n[6], omitted: n[7])
        d.source = s[8]; d.failures = n[9]; d.probes = n[10]; d.windowSeconds = n[11]; d.services = services; d.method = s[13]
        d.distinct = n[14]; d.samples = samples
        return d
    }

    // MARK: structure

    private mutating func skipSpace() {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        skipSpace()
        guard i < b.count, b[i] == byte else { throw fail("expected \(what)") }
        i += 1
    }

    /// Whether the next value is `null` (consumed); nil is what an optional field becomes.
    private mutating func ifPresent<T>(_ read: (inout PayloadReader) throws(Failure) -> T) throws(Failure) -> T? {
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "n") { try literal("null"); return nil }
        return try read(&self)
    }

    /// An object: each member's key as its index in `keys` (nil: not one of them) to `member`,
    /// which reads the value.
    private mutating func object(keys: [[UInt8]], _ member: (inout PayloadReader, Int?) throws(Failure) -> Void) throws(Failure) {
        try sequence(UInt8(ascii: "{"), UInt8(ascii: "}"), "object") { (r: inout PayloadReader) throws(Failure) in
            r.skipSpace()
            let key = try r.keyIndex(keys)
            try r.expect(UInt8(ascii: ":"), "':'")
            try member(&r, key)
        }
    }

    private mutating func array<T>(_ element: (inout PayloadReader) throws(Failure) -> T) throws(Failure) -> [T] {
        var out = [T]()
        try sequence(UInt8(ascii: "["), UInt8(ascii: "]"), "array") { (r: inout PayloadReader) throws(Failure) in out.append(try element(&r)) }
        return out
    }

    /// What stands between `open` and `close`: nothing, or items separated by commas, each read
    /// by `item`; one level of nesting deeper while it is read.
    private mutating func sequence(_ open: UInt8, _ close: UInt8, _ what: String,
                                   _ item: (inout PayloadReader) throws(Failure) -> Void) throws(Failure) {
        try expect(open, "an \(what)")
        try enter()
        skipSpace()
        if i < b.count, b[i] == close { i += 1; depth -= 1; return }
        while true {
            try item(&self)
            skipSpace()
            guard i < b.count else { throw fail("unterminated \(what)") }
            if b[i] == close { i += 1; break }
            guard b[i] == UInt8(ascii: ",") else { throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
            i += 1
        }
        depth -= 1
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
    }

    /// Any JSON value, checked and discarded.
    private mutating func skipValue() throws(Failure) {
        skipSpace()
        guard i < b.count else { throw fail("expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"): try object(keys: []) { (r: inout PayloadReader, _: Int?) throws(Failure) in try r.skipValue() }
        case UInt8(ascii: "["): _ = try array { (r: inout PayloadReader) throws(Failure) in try r.skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        skipSpace()
        let n = word.utf8CodeUnitCount
        guard b.count - i >= n, (0..<n).allSatisfy({ b[i + $0] == word.utf8Start[$0] }) else { throw fail("expected \(word)") }
        i += n
    }

    private mutating func bool() throws(Failure) -> Bool {
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "t") { try literal("true"); return true }
        try literal("false")
        return false
    }

    // MARK: strings

    /// A key's index in `keys`, read without making a String unless it has escapes.
    private mutating func keyIndex(_ keys: [[UInt8]]) throws(Failure) -> Int? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
        let start = i + 1
        var j = start
        while j < b.count, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\"), b[j] >= 0x20 { j += 1 }
        if j < b.count, b[j] == UInt8(ascii: "\"") {
            let raw = UnsafeBufferPointer(rebasing: b[start..<j])
            if let k = keys.firstIndex(where: { $0.elementsEqual(raw) }) { i = j + 1; return k }
        }
        let key = Array(try string().utf8)
        return keys.firstIndex(of: key)
    }

    private mutating func string() throws(Failure) -> String {
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        i += 1
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
        guard i < b.count else { throw fail("unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return try text(UnsafeBufferPointer(rebasing: b[start..<i]), from: start)
        }
        var out = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            guard c >= 0x20 else { throw fail("control character in a string") }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            guard i + 1 < b.count else { throw fail("unterminated string") }
            i += 2
            switch b[i - 1] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try hex4())
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate") }
                    i += 2
                    let low = UInt32(try hex4())
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
            default: throw fail("invalid escape")
            }
        }
        return try out.withUnsafeBufferPointer { (u: UnsafeBufferPointer<UInt8>) throws(Failure) in try text(u, from: start) }
    }

    private func text(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) throws(Failure) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw Failure(description: "invalid UTF-8 in the string at byte \(start)") }
        return s
    }

    private mutating func hex4() throws(Failure) -> UInt16 {
        guard b.count - i >= 4 else { throw fail("short \\u escape") }
        guard let v = Hex.codeUnit(UnsafeBufferPointer(rebasing: b[i..<(i + 4)])) else { throw fail("invalid \\u escape") }
        i += 4
        return v
    }

    // MARK: numbers

    /// A number's text, checked against JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    /// `integral` is whether it has neither fraction nor exponent; `nonZero` whether any digit
    /// of its significand is not 0.
    private mutating func number() throws(Failure) -> (text: UnsafeBufferPointer<UInt8>, integral: Bool, nonZero: Bool) {
        skipSpace()
        let start = i
        var nonZero = false
        func digits(_ r: inout PayloadReader, significand: Bool) -> Int {
            let from = r.i
            while r.i < r.b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.b[r.i]) {
                if significand, r.b[r.i] != UInt8(ascii: "0") { nonZero = true }
                r.i += 1
            }
            return r.i - from
        }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { throw fail("expected a value") }
        if b[i] == UInt8(ascii: "0") { i += 1 } else { _ = digits(&self, significand: true) }
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            integral = false
            guard digits(&self, significand: true) > 0 else { throw fail("expected digits after '.'") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            integral = false
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self, significand: false) > 0 else { throw fail("expected digits in the exponent") }
        }
        return (UnsafeBufferPointer(rebasing: b[start..<i]), integral, nonZero)
    }

    private mutating func double() throws(Failure) -> Double {
        let at = i
        let n = try number()
        return try Self.double(n.text, nonZero: n.nonZero, at: at)
    }

    private static func double(_ text: UnsafeBufferPointer<UInt8>, nonZero: Bool, at: Int) throws(Failure) -> Double {
        // The text is a JSON number (checked), which Double's own parser reads exactly.
        guard let v = Double(String(decoding: text, as: UTF8.self)), v.isFinite, v != 0 || !nonZero else {
            throw Failure(description: "number out of range at byte \(at)")
        }
        return v
    }

    private mutating func int() throws(Failure) -> Int {
        let at = i
        let n = try number()
        if n.integral {
            var v = 0
            let negative = n.text[0] == UInt8(ascii: "-")
            for c in n.text where c != UInt8(ascii: "-") {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(Int(c - 48)) : m.addingReportingOverflow(Int(c - 48))
                guard !o1, !o2 else { throw Failure(description: "integer out of range at byte \(at)") }
                v = s
            }
            return v
        }
        // As JSONDecoder: a decimal is an integer when its Double value is one.
        guard let v = Int(exactly: try Self.double(n.text, nonZero: n.nonZero, at: at)) else {
            throw Failure(description: "not an integer at byte \(at)")
        }
        return v
    }
}

/// For the comparison of `PayloadReader` with JSONDecoder (the tests and the `payload-decode`
/// fuzz target): JSONDecoder refuses some zeros written with an exponent (`0e5`, `0.00e1`, not
/// `0.0e5`), which are JSON and which the reader reads as 0.
public enum JSONDecoderComparison {
    /// Numbers outside strings that are a zero with an exponent (`0e5`, `-0.00E+1`) written `0`.
    public static func zeroExponentsAsZero(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](), i = 0, inString = false
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                out.append(c)
                if c == UInt8(ascii: "\\"), i + 1 < bytes.count { out.append(bytes[i + 1]); i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") { inString = true; out.append(c); i += 1; continue }
            if c == UInt8(ascii: "-") || c == UInt8(ascii: "0"), i == 0 || !"0123456789.eE+-".utf8.contains(bytes[i - 1]) {
                var j = i
                while j < bytes.count, "0123456789.eE+-".utf8.contains(bytes[j]) { j += 1 }
                if isZeroWithExponent(bytes[i..<j]) { out.append(UInt8(ascii: "0")); i = j; continue }
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// `-?0(.0+)?[eE][+-]?[0-9]+`
    static func isZeroWithExponent(_ t: ArraySlice<UInt8>) -> Bool {
        var k = t.startIndex
        if k < t.endIndex, t[k] == UInt8(ascii: "-") { k += 1 }
        guard k < t.endIndex, t[k] == UInt8(ascii: "0") else { return false }
        k += 1
        if k < t.endIndex, t[k] == UInt8(ascii: ".") {
            k += 1
            let zeros = k
            while k < t.endIndex, t[k] == UInt8(ascii: "0") { k += 1 }
            guard k > zeros else { return false }
        }
        guard k < t.endIndex, t[k] == UInt8(ascii: "e") || t[k] == UInt8(ascii: "E") else { return false }
        k += 1
        if k < t.endIndex, t[k] == UInt8(ascii: "+") || t[k] == UInt8(ascii: "-") { k += 1 }
        guard k < t.endIndex else { return false }
        return t[k...].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
