@testable import AgentCore
import Foundation
import Testing

/// Regression tests for input an attacker chooses (docs/SECURITY.md): each case would crash, stall
/// or mislead the agent or receiver without the bound its comment names.
@Suite struct HostileInputTests {
    let verifier = IngestVerifier(secret: Secret("k"), maxSkewSeconds: 300)

    /// Unauthenticated: any X-Agent-Timestamp is answered 401, never a trap in the skew arithmetic.
    @Test(arguments: ["-9223372036854775808", "9223372036854775807", "-1", "+1736937000", " 1736937000", "1736937000.5",
                      "99999999999999999999", "١٧٣٦٩٣٧٠٠٠", "0x10", "1e9", "-0"])
    func anyTimestampHeaderIsA401(_ header: String) {
        let result = verifier.verify(timestamp: header, signature: "sha256=00", body: Array("{}".utf8), now: 1_736_937_000)
        guard case .failure(let rejection) = result else { Issue.record("accepted \(header)"); return }
        #expect(rejection.status == 401)
    }

    @Test func extremeClocksDoNotTrap() {
        for now in [Int64.min, Int64.max, 0] {
            let r = verifier.verify(timestamp: "999999999999", signature: "sha256=00", body: [], now: now)
            #expect((try? r.get()) == nil)
        }
        #expect(IngestVerifier.unixSeconds("1736937000") == 1_736_937_000)
        #expect(IngestVerifier.unixSeconds("1234567890123") == nil, "13 digits")
    }

    /// From the server the agent sends to: a Date or Retry-After with a year of 17 digits must
    /// not reach the day arithmetic.
    @Test(arguments: ["Thu, 01 Jan 99999999999999999 00:00:00 GMT", "Thu, 01 Jan -9223372036854775808 00:00:00 GMT",
                      "Thu, 01 Jan 10000 00:00:00 GMT", "Thu, 99999999999999999999 Jan 2025 00:00:00 GMT",
                      "Thu, 01 Jan 2025 99999999999999999:00:00 GMT", "Thu, 01 Jan 0000 00:00:00 GMT",
                      "Thu, -1 Jan 2025 00:00:00 GMT", "Thu, 01 Jan 2025 -1:00:00 GMT"])
    func hostileHTTPDatesAreNoDates(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
        _ = RetryPolicy.parseRetryAfter(text, now: .max)
        _ = RetryPolicy.parseRetryAfter(text, now: .min)
    }

    @Test func retryAfterIsDigitsOrADateAndBounded() {
        #expect(RetryPolicy.parseRetryAfter("99999999999999999999999", now: 0) == RetryPolicy.maxRetryAfter)
        #expect(RetryPolicy.parseRetryAfter("0000000000000000000000007", now: 0) == 7)
        for bad in ["1e400", "inf", "nan", "+5", "5.5", "0x10", "-0", "infinity"] {
            #expect(RetryPolicy.parseRetryAfter(bad, now: 0) == nil, "\(bad)")
        }
        #expect(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: .min) == nil, "overflowing difference")
        #expect(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: 0) == RetryPolicy.maxRetryAfter)
        let policy = RetryPolicy()
        #expect(policy.decide(.status(503, retryAfterSeconds: RetryPolicy.maxRetryAfter), attempt: 0, unitRandom: 0)
                == .retry(after: policy.maxDelay))
    }

    /// `User U from A not allowed because R`: a user name holding its own " from X not allowed
    /// because " cannot make X the accused address.
    @Test func userNameCannotMoveTheAddressOfNotAllowed() throws {
        let line = "Nov 30 09:10:27 h sshd[7]: User x from 6.6.6.6 not allowed because y from 192.0.2.7 not allowed because not listed in AllowUsers"
        let e = try #require(AuthLogParser.parse(line: line))
        #expect(e.address == "192.0.2.7" && e.kind == .refusedUser)
        let plain = try #require(AuthLogParser.parse(line: "Nov 30 09:10:27 h sshd[7]: User bob from 192.0.2.8 not allowed because listed in DenyUsers"))
        #expect(plain.address == "192.0.2.8" && plain.user == "bob")
    }

    /// Tokens that are neither an IP address nor a DNS host name are no source at all.
    @Test(arguments: ["1.2.3.4.5", "1::2::3", "[2001:db8::1]", "١.٢.٣.٤", "256.1.1.1", "10.0.0.1/24", "a..b", "-a.example",
                      "host_name", "ex\u{0430}mple.com", "1.2.3", "999"])
    func nonAddressTokensAreNotHostNames(_ token: String) {
        let line = "Nov 30 09:10:27 h sshd[7]: Failed password for root from \(token) port 22 ssh2"
        #expect(AuthLogParser.parse(line: line) == nil, "\(token)")
    }

    @Test func hostNamesAndScopedAddressesStillParse() throws {
        let name = try #require(AuthLogParser.parse(line: "Nov 30 09:10:27 h sshd[7]: Failed password for root from Scanner.Example.NET port 22 ssh2"))
        #expect(name.address == "scanner.example.net", "names are compared without case")
        let scoped = try #require(AuthLogParser.parse(line: "Nov 30 09:10:27 h sshd[7]: Failed password for root from fe80::1%eth0 port 22 ssh2"))
        #expect(scoped.address == "fe80::1" && scoped.source?.hostName == nil)
        #expect(AddressKey.isHostName(Array("a-1.example.".utf8)))
        #expect(!AddressKey.isHostName(Array(String(repeating: "a", count: 64).utf8)), "label over 63")
    }

    static func payload(logs: Int = 0, logBytes: Int = 10, alerts: Int = 0) -> Payload {
        Payload(payloadID: "00000000-0000-4000-8000-000000000001", agentVersion: "t", host: "h", serverID: "s", env: "dev",
                ownerTeam: "", timestamp: "2025-01-01T00:00:00Z",
                metrics: HostMetrics(cpuUsage: 1, memoryUsage: nil, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: nil),
                dockerEvents: (0..<50).map { DockerEvent(type: "container", action: "start", container: "c\($0)", image: "i", timestamp: "t") },
                logs: (0..<logs).map { _ in LogEntry(container: "c", message: String(repeating: "\u{1}", count: logBytes), timestamp: "t") },
                alerts: (0..<alerts).map { Alert(.bruteForce, subject: "h\($0).attacker.example") } + [Alert(.cpuSpike)])
    }

    /// Control bytes (escaped six times larger) in container output: logs are cut to the budget,
    /// metrics and alerts stay.
    @Test func logFloodIsCutToTheBudgetNeverMetrics() throws {
        let p = Self.payload(logs: 100, logBytes: 1_000)
        let (body, trim) = try PayloadBudget.fit(p, maxBytes: 50_000)
        #expect(body.count <= 50_000 && trim.logs > 80 && trim.events == 0 && trim.alerts == 0)
        let back = try PayloadCoding.decode(body)
        #expect(back.metrics == p.metrics && back.localAlerts == ["CPU_SPIKE"] && back.logs.count == 100 - trim.logs)
        #expect(String(decoding: body, as: UTF8.self).contains(#""memory_usage":null"#), "unknown metrics are null")
        let (small, none) = try PayloadBudget.fit(p, maxBytes: 100_000_000)
        let plain = try PayloadCoding.encode(p)
        #expect(none.isEmpty && small == plain, "a payload that fits is untouched")
    }

    /// Tens of thousands of alerting host names: alerts past what fits are summarised per rule
    /// with their total, the score still counts them all.
    @Test func alertFloodIsSummarisedWithItsTotal() throws {
        let p = Self.payload(logs: 10, alerts: 4_000)
        let (body, trim) = try PayloadBudget.fit(p, maxBytes: 32 << 10)
        #expect(body.count <= 32 << 10)
        let back = try PayloadCoding.decode(body)
        #expect(trim.logs == 10 && trim.events == 50 && trim.alerts > 0)
        #expect(back.localAlerts.count == 4_001 - trim.alerts)
        let summaries = back.alertsDetail.filter { $0.omitted != nil }
        #expect(summaries.reduce(0) { $0 + $1.omitted! } == trim.alerts)
        let brute = try #require(summaries.first { $0.rule == .bruteForce })
        #expect(brute.total == 4_000)
        #expect(back.score == p.score, "score sums every alert, kept or summarised")
    }

    /// A flood of one rule cannot push the other rules out: what is kept takes one of each rule in
    /// turn, the heaviest first, each rule in its detector's order (worst attacker first).
    @Test func alertFloodKeepsEveryOtherRule() throws {
        var p = Self.payload(alerts: 4_000)
        p.localAlerts += ["LOGIN_AFTER_FAILURES:h7.attacker.example", "SHELL_IN_CONTAINER:web"]
        p.alertsDetail = p.localAlerts.map { AlertDetail(rule: Alert(wireValue: $0)!.rule) }
        let (body, trim) = try PayloadBudget.fit(p, maxBytes: 32 << 10)
        let back = try PayloadCoding.decode(body)
        #expect(trim.alerts > 3_000)
        #expect(Array(back.localAlerts.prefix(5)) == ["LOGIN_AFTER_FAILURES:h7.attacker.example", "SHELL_IN_CONTAINER:web",
                                                      "BRUTE_FORCE:h0.attacker.example", "CPU_SPIKE", "BRUTE_FORCE:h1.attacker.example"])
        #expect(back.localAlerts.filter { $0.hasPrefix("BRUTE_FORCE:") } == (0..<(back.localAlerts.count - 3)).map { "BRUTE_FORCE:h\($0).attacker.example" })
        #expect(Array(back.alertsDetail.prefix(4).map(\.rule)) == [.loginAfterFailures, .shellInContainer, .bruteForce, .cpuSpike])
        #expect(back.alertsDetail.first { $0.omitted != nil }?.total == 4_000)
    }

    /// Alerts the detectors raised but did not list (their per-rule cap) weigh in the score and are
    /// summarised; when the budget cuts more of the same rule, the two make one summary.
    @Test func alertsLeftOutByTheDetectorsAreSummarisedOnceWithWhatTheBudgetCuts() throws {
        let alerts = (0..<4_000).map { Alert(.bruteForce, subject: "h\($0).attacker.example") }
        let p = Payload(payloadID: "00000000-0000-4000-8000-000000000001", agentVersion: "t", host: "h", serverID: "s", env: "dev",
                        ownerTeam: "", timestamp: "2025-01-01T00:00:00Z",
                        metrics: HostMetrics(cpuUsage: 1, memoryUsage: nil, diskUsage: 3, networkRxBytesPerSec: 0, networkTxBytesPerSec: 0, tcpConnections: nil),
                        alerts: alerts, omitted: [.bruteForce: 96_000, .userEnumeration: 10])
        #expect(p.score == 100_000 * 0.5 + 10 * 0.3)
        let before = p.alertsDetail.filter { $0.omitted != nil }
        #expect(before.map(\.rule) == [.bruteForce, .userEnumeration])
        #expect(before.first?.total == 100_000 && before.first?.omitted == 96_000 && before.last?.total == 10)
        let (body, trim) = try PayloadBudget.fit(p, maxBytes: 32 << 10)
        #expect(body.count <= 32 << 10 && trim.alerts > 3_000)
        let back = try PayloadCoding.decode(body)
        let summaries = back.alertsDetail.filter { $0.omitted != nil }
        #expect(summaries.map(\.rule) == [.bruteForce, .userEnumeration], "one summary per rule")
        #expect(summaries.first?.omitted == 96_000 + trim.alerts && summaries.first?.total == 100_000)
        #expect(summaries.last?.omitted == 10 && summaries.last?.total == 10)
        #expect(back.score == p.score)
        // Fitting the fitted payload again (the shipper halves a payload a server refuses as too
        // large) keeps one summary per rule and the same totals.
        let (again, _) = try PayloadBudget.fit(back, maxBytes: 16 << 10)
        let twice = try PayloadCoding.decode(again).alertsDetail.filter { $0.omitted != nil }
        #expect(twice.map(\.rule) == [.bruteForce, .userEnumeration] && twice.first?.total == 100_000)
    }
}

/// The streamed container listing: elements come out whole whatever the chunking, brackets and
/// quotes inside strings do not count, an oversized element is skipped and counted.
@Suite struct JSONArrayScannerTests {
    func scan(_ text: String, chunk: Int, max: Int = 1 << 20) -> (elements: [String], scanner: JSONArrayScanner) {
        var s = JSONArrayScanner(maxElementBytes: max)
        var out: [[UInt8]] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            s.feed(bytes[i..<min(bytes.count, i + chunk)], into: &out)
            i += chunk
        }
        return (out.map { String(decoding: $0, as: UTF8.self) }, s)
    }

    @Test func elementsWholeAtEveryChunkSize() {
        let text = #" [ {"Id":"a","Names":["/x]"],"L":{"k":"v\"}]"}} , {"Id":"b"},[1,2] ,"s,]", 7 ,null] "#
        for chunk in 1...text.utf8.count {
            let (elements, s) = scan(text, chunk: chunk)
            #expect(elements == [#"{"Id":"a","Names":["/x]"],"L":{"k":"v\"}]"}}"#, #"{"Id":"b"}"#, "[1,2]", #""s,]""#, "7", "null"], "chunk \(chunk)")
            #expect(s.finished && !s.failed)
        }
    }

    @Test func oversizedSkippedAndNotAnArrayFails() {
        let big = "[" + #"{"Id":"\#(String(repeating: "x", count: 100))"},{"Id":"y"}]"#
        let (elements, s) = scan(big, chunk: 7, max: 50)
        #expect(elements == [#"{"Id":"y"}"#] && s.oversized == 1 && s.finished)
        #expect(scan(#"{"message":"page not found"}"#, chunk: 3).scanner.failed)
        #expect(!scan("[{\"Id\":\"a\"}", chunk: 3).scanner.finished, "a cut-off listing is not finished")
    }
}

/// Found by scripts/fuzz.sh (docker-event): a daemon's negative `timeNano` gave a negative
/// fraction, and the `since` parameter of the next reconnection trapped on it.
@Suite struct DockerTimeFromOutsideTests {
    @Test(arguments: [Int64.min, -1_795_845_184_334_299_683, -1, 0, 1, Int64.max])
    func anyTimeNanoPrintsAndResumes(_ timeNano: Int64) {
        let t = DockerTimestamp(timeNano: timeNano)
        #expect((0..<1_000_000_000).contains(t.nanos))
        #expect(t.sinceParameter.split(separator: ".").last?.count == 9)
        #expect(t.description.count == 30)
        // The instant is kept: seconds * 10^9 + nanos == timeNano, in 128-bit arithmetic.
        let (high, low) = t.seconds.multipliedFullWidth(by: 1_000_000_000)
        let whole = (Int128(high) << 64 | Int128(low)) + Int128(t.nanos)
        #expect(whole == Int128(timeNano))
    }

    @Test func floorDivisionKeepsTheInstant() {
        let t = DockerTimestamp(timeNano: -1)
        #expect(t.seconds == -1 && t.nanos == 999_999_999)
        #expect(t.description == "1969-12-31T23:59:59.999999999Z")
        #expect(t.sinceParameter == "-1.999999999")
    }

    @Test func eventTimesOutsideYears1To9999AreNoTime() throws {
        for time in [Int64.min, Int64.max, 253_402_300_800] {
            let e = try JSONDecoder().decode(DockerEventMessage.self, from: Data(#"{"time":\#(time)}"#.utf8))
            #expect(e.timestamp == nil)
        }
        #expect(DockerTimestamp(seconds: .min, nanos: -5).description == "0001-01-01T00:00:00.000000000Z")
    }
}
