@testable import AgentCore
import Testing

/// Real-looking log lines with secrets, and ordinary lines that must pass unchanged.
@Suite struct SecretMaskerTests {
    static let masked: [(String, String)] = [
        ("db connect password=hunter2 host=db", "db connect password=*** host=db"),
        ("DB_PASSWORD=s3cr3t!", "DB_PASSWORD=***"),
        ("export MYSQL_PWD='pa ss'", "export MYSQL_PWD='***'"),
        ("passwd: letmein", "passwd: ***"),
        (#"{"user":"bob","password":"p@ss\"word","ok":true}"#, #"{"user":"bob","password":"***","ok":true}"#),
        (#"{"apiKey": "abcd1234efgh"}"#, #"{"apiKey": "***"}"#),
        ("x-api-key: 0123456789abcdef", "x-api-key: ***"),
        ("api_key=AbC123&user=1", "api_key=***&user=1"),
        ("client_secret=xyz987, scope=all", "client_secret=***, scope=all"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key = ***"),
        ("ACCESS_KEY: q1w2e3", "ACCESS_KEY: ***"),
        ("github token=ghp_abcdefghijklmnop", "github token=***"),
        ("refresh_token: r-1-2-3", "refresh_token: ***"),
        ("Authorization: Bearer abc.def.ghi-jkl", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic ***"),
        ("proxy-authorization: Basic Zm9vOmJhcg==", "proxy-authorization: Basic ***"),
        ("calling upstream with bearer 9f8e7d6c5b4a3210", "calling upstream with bearer ***"),
        ("connecting to postgres://app:Sup3rS3cret@db:5432/app", "connecting to postgres://app:***@db:5432/app"),
        ("GET https://user:pw@example.com/x", "GET https://user:***@example.com/x"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nature-x done", "jwt *** done"),
        ("key AKIAIOSFODNN7EXAMPLE in use", "key *** in use"),
        ("temp ASIAY34FZKBOKMUTVV7A", "temp ***"),
        ("-----BEGIN RSA PRIVATE KEY-----MIIEow-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"),
    ]

    static let ordinary: [String] = [
        "Server started on port 80",
        #"127.0.0.1 - - [28/Nov/2026:22:50:06 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/7.88.1""#,
        "2026-11-28 22:50:06,123 INFO worker: processed 25 jobs in 3.2s",
        "https://example.com/path?q=1 fetched",
        "password reset requested for user 42",
        "tokens: 5 remaining", // not a key that ends in token
        "max_tokens=512",
        "Basic auth is enabled",
        "AKIA is a prefix, AKIASHORT is not a key",
        "eyJ but not a token",
        "time 22:50:06 pwd",
        #"{"level":"info","msg":"ready","status":200}"#,
        "",
        "ünïcødé line — with dashes --- and = signs == ok",
    ]

    @Test(arguments: masked)
    func masks(_ pair: (String, String)) {
        var m = SecretMasker()
        let (out, n) = m.mask(Array(pair.0.utf8))
        #expect(String(decoding: out, as: UTF8.self) == pair.1)
        #expect(n >= 1)
    }

    @Test(arguments: ordinary)
    func leavesOrdinaryLinesAlone(_ line: String) {
        var m = SecretMasker()
        let (out, n) = m.mask(Array(line.utf8))
        #expect(String(decoding: out, as: UTF8.self) == line)
        #expect(n == 0)
    }

    @Test func privateKeyAcrossLines() {
        var m = SecretMasker()
        let lines = ["loading key", "-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "bm90IGEgcmVhbCBrZXk=",
                     "-----END PRIVATE KEY-----", "key loaded"]
        let out = lines.map { String(decoding: m.mask(Array($0.utf8)).bytes, as: UTF8.self) }
        #expect(out == ["loading key", "-----BEGIN PRIVATE KEY-----", "***", "***", "-----END PRIVATE KEY-----", "key loaded"])
        #expect(!m.inPrivateKey)
    }

    @Test func publicKeysAndCertificatesPass() {
        var m = SecretMasker()
        let line = "-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----"
        #expect(m.mask(Array(line.utf8)).masked == 0)
        #expect(!m.inPrivateKey)
    }

    @Test func processorMasksBeforeCuttingAndMarksTheCut() {
        let p = LogLineProcessor(maxLineBytes: 64)
        var m = SecretMasker()
        let long = "token=" + String(repeating: "x", count: 100) + " tail"
        let line = DockerLogLine(stream: .stdout, timestamp: DockerTimestamp(seconds: 0, nanos: 5), bytes: Array(long.utf8))
        let r = p.process(line, container: "c", masker: &m, fallbackTimestamp: "unused")
        #expect(r.entry.message == "token=*** tail")
        #expect(!r.truncated && r.maskedValues == 1)
        let big = DockerLogLine(stream: .stdout, timestamp: nil, bytes: Array((String(repeating: "é", count: 40)).utf8))
        let cut = p.process(big, container: "c", masker: &m, fallbackTimestamp: "now")
        #expect(cut.truncated && cut.entry.message.hasSuffix(LogLineProcessor.truncationMarker))
        #expect(cut.entry.message == String(repeating: "é", count: 32) + LogLineProcessor.truncationMarker, "cut on a character boundary")
        #expect(cut.entry.timestamp == "now")
    }
}

@Suite struct HTTPStatusTests {
    static let lines: [(String, Int?)] = [
        (#"172.17.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/7.88.1""#, 200),
        (#"172.17.0.1 - frank [28/Nov/2026:10:00:00 +0000] "POST /api HTTP/1.0" 502 157"#, 502),
        (#"::1 - - [28/Nov/2026:10:00:00 +0000] "GET /x?a=\x22b\x22 HTTP/2.0" 404 0 "-" "-" "-""#, 404), // nginx escapes quotes
        (#"10.0.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET /health HTTP/1.1" 503 -"#, 503),
        (#"{"time":"2026-11-28T10:00:00Z","status":500,"path":"/"}"#, 500),
        (#"{"status": "504", "msg":"upstream timeout"}"#, 504),
        (#"{"statusCode":201}"#, 201),
        (#"{"status":"ok"}"#, nil),
        ("plain line with 500 in it", nil),
        (#"GET "/" 5000 bytes"#, nil),
    ]

    @Test(arguments: lines)
    func status(_ pair: (String, Int?)) {
        #expect(HTTPStatusParser.status(in: Array(pair.0.utf8)) == pair.1)
    }

}

@Suite struct DockerActivityTests {
    static func event(_ i: Int) -> DockerEvent {
        DockerEvent(type: "container", action: "start", container: "c\(i)", image: "img", timestamp: "t")
    }

    @Test func eventsCarryOverUpToTheBacklogThenDropOldest() {
        let a = DockerActivity(maxEventsPerPayload: 3, maxLogEntries: 5)
        for i in 0..<35 { a.add(event: Self.event(i)) } // backlog is 30
        #expect(a.counters.eventsDropped == 5)
        #expect(a.drain().events.map(\.container) == ["c5", "c6", "c7"])
        #expect(a.drain().events.map(\.container) == ["c8", "c9", "c10"], "the rest carries over")
    }

    @Test func logsKeepTheNewestAndCountDropsAndMaskWhatIsKept() {
        let a = DockerActivity(maxEventsPerPayload: 3, maxLogEntries: 5)
        var intake = LogIntake(container: "web")
        let lines = (0..<12).map { i in
            DockerLogLine(stream: .stdout, timestamp: nil, bytes: Array((i < 3 ? #"{"status":500,"token":"t\#(i)"}"# : "m\(i) password=p\(i)").utf8))
        }
        var pending: [PendingLogLine] = []
        var statuses = HTTPStatusCounts()
        intake.take(lines, now: { "arrival" }, into: &pending, statuses: &statuses)
        a.add(pending: pending, statuses: statuses, container: "web")
        let b = a.drain()
        #expect(b.logs.map(\.message) == ["m7 password=***", "m8 password=***", "m9 password=***", "m10 password=***", "m11 password=***"])
        #expect(b.logs.allSatisfy { $0.timestamp == "arrival" && $0.container == "web" })
        #expect(a.counters.logLinesDropped == 7 && a.counters.logLinesStreamed == 12 && a.counters.valuesMasked == 5)
        #expect(b.observations.httpStatuses == ["web": HTTPStatusCounts(total: 3, errors: 3)], "dropped lines still count for 5xx")
        #expect(a.drain() == DockerActivity.Batch())
    }

    /// A flooding container's lines do not push a quiet one's out of the payload; drops are
    /// counted per container, and a removed container's counts go after its last lines.
    @Test func logsAreSharedFairlyBetweenContainers() {
        let a = DockerActivity(maxEventsPerPayload: 3, maxLogEntries: 4)
        func add(_ container: String, _ n: Int) {
            var intake = LogIntake(container: container)
            var pending: [PendingLogLine] = []
            var statuses = HTTPStatusCounts()
            intake.take((0..<n).map { DockerLogLine(stream: .stdout, timestamp: nil, bytes: Array("\(container) \($0)".utf8)) },
                        now: { "t" }, into: &pending, statuses: &statuses)
            a.add(pending: pending, statuses: statuses, container: container)
        }
        add("quiet", 1)
        add("flood", 1000)
        let b = a.drain()
        #expect(b.logs.map(\.message) == ["quiet 0", "flood 997", "flood 998", "flood 999"])
        #expect(a.counters.logLinesDropped == 997 && a.counters.logLinesStreamed == 1001)
        #expect(a.containerLogCounts == ["quiet": .init(streamed: 1, dropped: 0), "flood": .init(streamed: 1000, dropped: 997)])
        a.forget(container: "flood")
        #expect(a.containerLogCounts.keys.sorted() == ["quiet"])
    }

    @Test func privateKeyStateIsCarriedToLinesMaskedLater() {
        let a = DockerActivity(maxEventsPerPayload: 3, maxLogEntries: 2)
        var intake = LogIntake(container: "db")
        let text = ["-----BEGIN EC PRIVATE KEY-----", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oZF0", "AwEHoUQDQgAE", "-----END EC PRIVATE KEY-----"]
        var pending: [PendingLogLine] = []
        var statuses = HTTPStatusCounts()
        intake.take(text.map { DockerLogLine(stream: .stderr, timestamp: nil, bytes: Array($0.utf8)) }, now: { "" },
                    into: &pending, statuses: &statuses)
        a.add(pending: pending, statuses: statuses, container: "db")
        // Only the last two lines are kept: the body line is still masked though its BEGIN was dropped.
        #expect(a.drain().logs.map(\.message) == ["***", "-----END EC PRIVATE KEY-----"])
        #expect(SecretMasker.privateKeyState(after: Array("-----BEGIN CERTIFICATE-----".utf8), startingInside: false) == false)
        #expect(SecretMasker.privateKeyState(after: Array("x -----BEGIN PRIVATE KEY-----".utf8), startingInside: false))
        #expect(!SecretMasker.privateKeyState(after: Array("-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----".utf8), startingInside: false))
    }

    @Test func execsGoToTheDetectorsOnceAndAreBounded() {
        let a = DockerActivity(maxEventsPerPayload: 3, maxLogEntries: 5)
        let sh = ContainerExec(container: "db", image: "pg", process: ExecProcess(entrypoint: "bash", arguments: [], tty: true, stdin: true, user: ""),
                               healthcheck: nil)
        for _ in 0..<(DockerActivity.maxExecs + 5) { a.add(exec: sh) }
        let b = a.drain()
        #expect(b.observations.execs.count == DockerActivity.maxExecs && a.counters.execsDropped == 5 && a.counters.execsSeen == DockerActivity.maxExecs + 5)
        #expect(a.drain().observations.isEmpty)
    }
}
