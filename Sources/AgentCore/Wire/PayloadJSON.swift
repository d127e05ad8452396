/// Writes a payload's JSON straight into bytes: the document JSONEncoder made with
/// `[.sortedKeys, .withoutEscapingSlashes]` (keys in byte order, nil fields left out, doubles in
/// their shortest form without a trailing ".0"), byte for byte; the tests compare the two on
/// generated payloads. Not JSONEncoder on the agent's cycle: the encoder would be 15 % of the
/// user-space instructions and most of the allocations.
struct PayloadJSON {
    private(set) var bytes: [UInt8] = []

    static func encode(_ p: Payload) throws(AgentError) -> [UInt8] {
        var w = PayloadJSON()
        w.bytes.reserveCapacity(768 + p.logs.count * 160 + p.dockerEvents.count * 128)
        try w.payload(p)
        return w.bytes
    }

    /// One `alerts_detail` entry as the payload holds it.
    static func encode(detail d: AlertDetail) -> [UInt8] {
        var w = PayloadJSON()
        w.detail(d)
        return w.bytes
    }

    /// Bytes each alert string and each detail takes in the document (without the comma between
    /// elements), written one at a time into one reused buffer: what a list of tens of thousands
    /// costs without building its whole document.
    static func sizes(alerts: [String], details: [AlertDetail]) -> (alerts: [Int], details: [Int]) {
        var w = PayloadJSON()
        w.bytes.reserveCapacity(1024)
        func measure<T>(_ items: [T], _ write: (inout PayloadJSON, T) -> Void) -> [Int] {
            items.map { item in
                w.bytes.removeAll(keepingCapacity: true)
                write(&w, item)
                return w.bytes.count
            }
        }
        return (measure(alerts) { $0.string($1) }, measure(details) { $0.detail($1) })
    }

    private mutating func payload(_ p: Payload) throws(AgentError) {
        raw("{\"agent_version\":"); string(p.agentVersion)
        raw(",\"alerts_detail\":"); array(p.alertsDetail) { $0.detail($1) }
        raw(",\"docker_events\":")
        array(p.dockerEvents) { w, e in
            w.raw("{\"action\":"); w.string(e.action)
            w.raw(",\"container\":"); w.string(e.container)
            w.raw(",\"image\":"); w.string(e.image)
            w.raw(",\"timestamp\":"); w.string(e.timestamp)
            w.raw(",\"type\":"); w.string(e.type)
            w.raw("}")
        }
        raw(",\"env\":"); string(p.env)
        raw(",\"host\":"); string(p.host)
        raw(",\"local_alerts\":"); array(p.localAlerts) { $0.string($1) }
        raw(",\"logs\":")
        array(p.logs) { w, l in
            w.raw("{\"container\":"); w.string(l.container)
            w.raw(",\"message\":"); w.string(l.message)
            w.raw(",\"timestamp\":"); w.string(l.timestamp)
            w.raw("}")
        }
        let m = p.metrics
        raw(",\"metrics\":{\"cpu_usage\":"); try number(m.cpuUsage)
        raw(",\"disk_usage\":"); try number(m.diskUsage)
        raw(",\"memory_usage\":"); try number(m.memoryUsage)
        raw(",\"network_rx_bytes_per_sec\":"); try number(m.networkRxBytesPerSec)
        raw(",\"network_tx_bytes_per_sec\":"); try number(m.networkTxBytesPerSec)
        raw(",\"tcp_connections\":"); if let t = m.tcpConnections { integer(t) } else { raw("null") }
        raw("},\"owner_team\":"); string(p.ownerTeam)
        raw(",\"payload_id\":"); string(p.payloadID)
        raw(",\"score\":"); try number(p.score)
        raw(",\"server_id\":"); string(p.serverID)
        if let s = p.simulated { raw(",\"simulated\":"); raw(s ? "true" : "false") }
        raw(",\"timestamp\":"); string(p.timestamp)
        raw("}")
    }

    private mutating func array<T>(_ items: [T], _ element: (inout PayloadJSON, T) -> Void) {
        raw("[")
        for (i, item) in items.enumerated() {
            if i > 0 { raw(",") }
            element(&self, item)
        }
        raw("]")
    }

    /// Keys in sorted order, as `JSONEncoder` with `.sortedKeys` writes them.
    private mutating func detail(_ d: AlertDetail) {
        raw("{")
        if let c = d.command { raw("\"command\":"); string(c); raw(",") }
        if let c = d.container { raw("\"container\":"); string(c); raw(",") }
        if let v = d.distinct { raw("\"distinct\":"); integer(v); raw(",") }
        if let e = d.errors { raw("\"errors\":"); integer(e); raw(",") }
        if let v = d.failures { raw("\"failures\":"); integer(v); raw(",") }
        if let i = d.image { raw("\"image\":"); string(i); raw(",") }
        if let v = d.method { raw("\"method\":"); string(v); raw(",") }
        if let o = d.omitted { raw("\"omitted\":"); integer(o); raw(",") }
        if let v = d.probes { raw("\"probes\":"); integer(v); raw(",") }
        raw("\"rule\":"); string(d.rule.rawValue)
        if let v = d.samples { raw(",\"samples\":"); array(v) { $0.string($1) } }
        if let v = d.services { raw(",\"services\":"); array(v) { $0.string($1) } }
        if let v = d.source { raw(",\"source\":"); string(v) }
        if let t = d.total { raw(",\"total\":"); integer(t) }
        if let u = d.user { raw(",\"user\":"); string(u) }
        if let v = d.windowSeconds { raw(",\"window_seconds\":"); integer(v) }
        raw("}")
    }

    private mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func integer(_ v: Int) {
        bytes.append(contentsOf: String(v).utf8)
    }

    /// A metric that could not be read: `null`.
    private mutating func number(_ v: Double?) throws(AgentError) {
        if let v { try number(v) } else { raw("null") }
    }

    /// JSONEncoder's form: `description`, minus a trailing ".0"; NaN and infinity are errors.
    private mutating func number(_ v: Double) throws(AgentError) {
        guard v.isFinite else { throw AgentError(.encode, "cannot encode payload: \(v) is not a JSON number") }
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        bytes.append(contentsOf: s.utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Quotes and escapes as JSONEncoder does: `"` and `\`, the short escapes for backspace, form
    /// feed, newline, return and tab, `\u00XX` for the other control characters; "/" and all
    /// non-ASCII text are written as they are.
    private mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(b >> 4)], Self.hex[Int(b & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
