import AgentCore
import Foundation
import TestSupport
import Testing

/// The receiver's payload reader accepts JSON (RFC 8259) with the payload's types, everywhere in
/// the document, and gives for it what JSONDecoder gives for `Payload`'s Codable form: on
/// documents written every way JSON allows, the edge cases of numbers, strings and structure,
/// and random edits of a real payload.
@Suite struct PayloadReaderTests {
    static func reference(_ bytes: [UInt8]) -> Payload? {
        try? JSONDecoder().decode(Payload.self, from: Data(bytes))
    }

    /// What the reader gives, checked against JSONDecoder: whatever the reader accepts,
    /// JSONDecoder reads as the same payload (or, for a zero written with an exponent that it
    /// refuses, reads so once that number is written `0`).
    @discardableResult
    static func read(_ bytes: [UInt8], _ comment: String = "") -> Payload? {
        guard let mine = try? PayloadCoding.decode(bytes) else { return nil }
        let theirs = reference(bytes) ?? reference(JSONDecoderComparison.zeroExponentsAsZero(bytes))
        #expect(mine == theirs, "\(comment): reader accepted, JSONDecoder \(theirs == nil ? "refused" : "differs"): \(String(decoding: bytes.prefix(400), as: UTF8.self))")
        return mine
    }

    static func accepts(_ bytes: [UInt8], _ comment: String) -> Bool {
        let ok = read(bytes, comment) != nil
        #expect(ok, "\(comment): refused")
        return ok
    }

    static func refuses(_ bytes: [UInt8], _ comment: String) {
        #expect((try? PayloadCoding.decode(bytes)) == nil, "\(comment): accepted")
    }

    static let golden = try! Paths.fixtureText("golden/payload.json").trimmingCharacters(in: .whitespacesAndNewlines)

    @Test func readsTheGoldenPayload() throws {
        let p = try PayloadCoding.decode(Array(Self.golden.utf8))
        #expect(p.host == "web-01" && p.metrics.tcpConnections == 150 && p.metrics.cpuUsage == 45.2 && p.logs.count == 1 && p.score == 1.5)
        #expect(p == Self.reference(Array(Self.golden.utf8)))
    }

    @Test(arguments: 0..<10)
    func readsGeneratedPayloadsInEveryLayout(seed: Int) throws {
        var g = PayloadJSONTests.Gen(state: UInt64(seed) + 7_000)
        let layouts: [JSONEncoder.OutputFormatting] = [[], [.prettyPrinted], [.sortedKeys, .withoutEscapingSlashes], [.prettyPrinted, .sortedKeys]]
        for _ in 0..<60 {
            let p = g.payload()
            for layout in layouts {
                let encoder = JSONEncoder()
                encoder.outputFormatting = layout
                let bytes = Array(try encoder.encode(p))
                #expect(try PayloadCoding.decode(bytes) == p, "seed \(seed), \(layout)")
            }
        }
    }

    /// The golden payload with `field`'s value (or the text after it) replaced.
    static func with(_ key: String, _ value: String) -> [UInt8] {
        var doc = golden
        let marker = "\"\(key)\":"
        guard let r = doc.range(of: marker) else { return Array((String(doc.dropLast()) + ",\(marker)\(value)}").utf8) }
        // The value runs to the next ',' or '}' at depth 0 (the fields replaced here are scalars).
        var end = r.upperBound
        var inString = false
        while end < doc.endIndex {
            let c = doc[end]
            if c == "\"" { inString.toggle() }
            if !inString, c == "," || c == "}" { break }
            end = doc.index(after: end)
        }
        doc.replaceSubrange(r.upperBound..<end, with: value)
        return Array(doc.utf8)
    }

    @Test func numbersAsJSONAndJSONDecoderReadThem() {
        let ints = ["37", "-0", "0", "37.0", "3.7e1", "1E+2", "100e-2", "9223372036854775807", "-9223372036854775808",
                    "1.00000000000000000001", "-1.0", "0.1e1", "0e400", "null"]
        for v in ints { _ = Self.accepts(Self.with("tcp_connections", v), "tcp_connections \(v)") }
        let notInts = ["1.5", "1e20", "9223372036854775808", "-9223372036854775809", "01", "1.", ".5", "-", "1e", "+1", "\"37\"", "true",
                       "1e400", "123456789012345678901234567890", "--1", "1ee2", "1.e2", "0x10", "Infinity", "NaN"]
        for v in notInts { Self.refuses(Self.with("tcp_connections", v), "tcp_connections \(v)") }
        let doubles = ["45.2", "0", "-0.0", "1E2", "5e-324", "3e-324", "0e-400", "0e5", "0.000e5", "-0.00E+1", "123456789012345678901234567890",
                       "1.7976931348623157e308"]
        for v in doubles {
            _ = Self.accepts(Self.with("cpu_usage", v), "cpu_usage \(v)")
            _ = Self.accepts(Self.with("score", v), "score \(v)")
        }
        #expect(Self.read(Self.with("cpu_usage", "1.5e1"))?.metrics.cpuUsage == 15)
        #expect(Self.read(Self.with("cpu_usage", "null"))?.metrics.cpuUsage == nil)
        Self.refuses(Self.with("score", "null"), "score null")
        for v in ["1e400", "-1e400", "1e-400", "2e-324", "1.7976931348623159e308", "\"1\"", "00", "-01", "1.", ".1", "1e+"] {
            Self.refuses(Self.with("cpu_usage", v), "cpu_usage \(v)")
        }
    }

    @Test func stringsAsJSONAndJSONDecoderReadThem() {
        let valid = [#""web-01""#, #""a\/b""#, #""\u00e9""#, #""\uD83D\uDE00""#, #""\u0000x""#, "\"\u{7f}\"", #""\"\\\b\f\n\r\t""#,
                     #""\uDBFF\uDFFF""#, "\"日本 🙂\""]
        let invalid = [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\x""#, #""\u12""#, #""\u12g4""#, "\"tab\there\"",
                       "\"unterminated", #""a"b""#, #""\""#]
        for v in valid {
            _ = Self.accepts(Self.with("host", v), "host \(v)")
            _ = Self.accepts(Self.with("future_field", v), "unknown key \(v)")
        }
        #expect(Self.read(Self.with("host", #""\uD83D\uDE00\u0000\/""#))?.host == "😀\u{0}/")
        for v in invalid {
            Self.refuses(Self.with("host", v), "host \(v)")
            // JSONDecoder does not look inside a value it skips; the body is stored whole, so here it must be JSON too.
            Self.refuses(Self.with("future_field", v), "unknown key \(v)")
        }
        for v in ["7", "null"] { Self.refuses(Self.with("host", v), "host \(v)") }
        for v in ["7", "null", "[1,{\"a\":[]}]", "{}", "true", "[1e999]"] { _ = Self.accepts(Self.with("future_field", v), "unknown key \(v)") }
        for v in ["{\"x\":nul}", "[", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[,]", "{,}", "01", "-", "1.", "[1e5e5]", "tru"] {
            Self.refuses(Self.with("future_field", v), "unknown key \(v)")
        }
        // Invalid UTF-8, in a value read and in one skipped.
        for bytes: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]] {
            for key in ["host", "future_field"] {
                var doc = Self.with(key, "\"@\"")
                let at = doc.firstIndex(of: UInt8(ascii: "@"))!
                doc.replaceSubrange(at...at, with: bytes)
                Self.refuses(doc, "\(key) bytes \(bytes)")
            }
        }
        var utf8 = Self.with("host", "\"@\"")
        utf8.replaceSubrange(utf8.firstIndex(of: UInt8(ascii: "@"))!...utf8.firstIndex(of: UInt8(ascii: "@"))!, with: [0xC3, 0xA9])
        #expect(Self.read(utf8)?.host == "é")
    }

    @Test func structureAsJSONAndJSONDecoderReadIt() throws {
        let g = Self.golden
        func doc(_ s: String) -> [UInt8] { Array(s.utf8) }
        func swap(_ old: String, _ new: String) -> [UInt8] {
            #expect(g.contains(old))
            return doc(g.replacingOccurrences(of: old, with: new))
        }
        _ = Self.accepts(doc(" \n\t" + g + " \r\n"), "whitespace around")
        Self.refuses(doc(String(g.dropLast()) + ",\"host\":\"second\"}"), "a key twice")
        Self.refuses(swap("\"metrics\":{", "\"metrics\":{\"cpu_usage\":1,"), "a metric twice")
        Self.refuses(swap("\"logs\":[{", "\"logs\":[{\"message\":\"first\","), "a log entry's key twice")
        _ = Self.accepts(swap("\"logs\":[{", "\"logs\":[{\"extra\":{\"a\":1,\"a\":2},"), "twice in a skipped object")
        #expect(Self.read(swap("\"host\"", "\"h\\u006fst\""))?.host == "web-01", "an escaped key")
        #expect(Self.read(swap("\"alerts_detail\":[],", ""))?.alertsDetail == [], "alerts_detail may be absent")
        #expect(Self.read(swap("\"alerts_detail\":[]", "\"alerts_detail\":null"))?.alertsDetail == [], "or null")
        #expect(Self.read(swap("\"tcp_connections\":150", "\"tcp_connections\":null"))?.metrics.tcpConnections == nil)
        #expect(Self.read(swap("\"timestamp\":\"2025-01-15T10:30:00Z\"", "\"timestamp\":\"2025-01-15T10:30:00Z\",\"simulated\":true"))?.simulated == true)
        _ = Self.accepts(swap("\"logs\":[{", "\"logs\":[{\"extra\":[[[]]],"), "an unknown key in a log entry")
        let detail = try #require(Self.read(swap("\"alerts_detail\":[]",
            "\"alerts_detail\":[{\"rule\":\"BRUTE_FORCE\",\"services\":[\"sshd\"],\"total\":2.0,\"source\":null,\"window_seconds\":60}]"))?.alertsDetail.first)
        #expect(detail.rule == .bruteForce && detail.services == ["sshd"] && detail.total == 2 && detail.source == nil && detail.windowSeconds == 60)
        let refused: [(String, [UInt8])] = [
            ("a byte order mark", [0xEF, 0xBB, 0xBF] + doc(g)), ("data after", doc(g + "x")), ("a comma after", doc(g + ",")),
            ("a vertical tab after", doc(g + "\u{0B}")), ("an array", doc("[" + g + "]")), ("null", doc("null")), ("nothing", []), ("{}", doc("{}")),
            ("a comma before }", doc(String(g.dropLast()) + ",}")), ("two commas", doc(String(g.dropLast()) + ",,}")),
            ("no env", swap("\"env\":\"prod\",", "")), ("null in local_alerts", swap("\"local_alerts\":[", "\"local_alerts\":[null,")),
            ("a comma before ]", swap("\"SHELL_IN_CONTAINER\"]", "\"SHELL_IN_CONTAINER\",]")),
            ("an unknown rule", swap("\"alerts_detail\":[]", "\"alerts_detail\":[{\"rule\":\"NOT_A_RULE\"}]")),
            ("a detail without rule", swap("\"alerts_detail\":[]", "\"alerts_detail\":[{\"container\":\"x\"}]")),
            ("simulated 1", swap("\"timestamp\":\"2025-01-15T10:30:00Z\"", "\"timestamp\":\"2025-01-15T10:30:00Z\",\"simulated\":1")),
            ("an event without action", swap("\"docker_events\":[{\"action\":\"start\",", "\"docker_events\":[{")),
            ("metrics null", swap("\"metrics\":{\"cpu_usage\":45.2,\"disk_usage\":23.1,\"memory_usage\":67.8,\"network_rx_bytes_per_sec\":1024000,\"network_tx_bytes_per_sec\":512000,\"tcp_connections\":150}", "\"metrics\":null")),
            ("a key that is not a string", doc("{1:2," + String(g.dropFirst()))),
        ]
        for (what, bytes) in refused {
            Self.refuses(bytes, what)
        }
    }

    /// Deep nesting in a skipped value is refused before it can exhaust the stack.
    @Test func deepNestingIsRefused() {
        let deep = Self.with("future_field", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        #expect(throws: (any Error).self) { try PayloadCoding.decode(deep) }
        let shallow = Self.with("future_field", String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        _ = Self.accepts(shallow, "100 levels")
    }

    /// Random edits of a real payload (deleted, repeated and replaced bytes, with the characters
    /// JSON's grammar turns on): whatever the reader accepts, JSONDecoder reads the same; and it
    /// refuses no edit that is still JSON JSONDecoder reads (checked by the edits both accept).
    @Test(arguments: 0..<8)
    func mutationsReadAsJSONDecoderReadsThem(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) + 99)
        let alphabet = Array("{}[],:\"\\/ue0123456789.-+Eabfnrtl \n\t".utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF, 0xED]
        let base = Array(Self.golden.utf8)
        var both = 0
        for _ in 0..<400 {
            var doc = base
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(doc.count))
                switch rng.next() % 4 {
                case 0: doc.remove(at: at)
                case 1: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                case 2: doc[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                default:
                    let n = min(doc.count - at, 1 + Int(rng.next() % 12))
                    doc.insert(contentsOf: doc[at..<(at + n)], at: at)
                }
            }
            if Self.read(doc, "seed \(seed)") != nil { both += 1 }
        }
        #expect(both > 20, "the edits reach accepted documents (\(both))")
    }

    @Test func aRefusalSaysWhatAndWhereWithoutTheBytes() {
        let doc = Self.with("host", "\"secret-token-\\x\"")
        do {
            _ = try PayloadCoding.decode(doc)
            Issue.record("accepted an invalid escape")
        } catch {
            let text = "\(error)"
            #expect(text.contains("invalid escape at byte") && !text.contains("secret-token"), "\(text)")
        }
        let missing = Array(Self.golden.replacingOccurrences(of: "\"env\":\"prod\",", with: "").utf8)
        #expect(throws: (any Error).self) { try PayloadCoding.decode(missing) }
        do { _ = try PayloadCoding.decode(missing) } catch { #expect("\(error)".contains("missing key env"), "\(error)") }
    }
}
