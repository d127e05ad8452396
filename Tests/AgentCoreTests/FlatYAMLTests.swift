import AgentCore
import Testing

@Suite struct FlatYAMLTests {
    func values(_ text: String) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try FlatYAML.parse(text).map { ($0.key, $0.value) })
    }

    @Test func scalarsCommentsAndQuotes() throws {
        let text = """
        \u{FEFF}---
        # a comment
        server_url: https://ingest.example.com/x#frag   # trailing comment
        health_addr: "127.0.0.1:9100"  # quoted, colon inside
        owner_team: 'team''s name'
        env: "tab\\there \\"q\\" \\u00e9 # not a comment"
        interval:   2.5\r
        empty:
        hash: a#b
        ...
        """
        let v = try values(text)
        #expect(v["server_url"] == "https://ingest.example.com/x#frag")
        #expect(v["health_addr"] == "127.0.0.1:9100")
        #expect(v["owner_team"] == "team's name")
        #expect(v["env"] == "tab\there \"q\" é # not a comment")
        #expect(v["interval"] == "2.5")
        #expect(v["empty"] == "")
        #expect(v["hash"] == "a#b")
        #expect(try FlatYAML.parse(text).first { $0.key == "interval" }?.line == 7)
        #expect(try FlatYAML.parse("").isEmpty)
        #expect(try FlatYAML.parse("# only a comment\n\n").isEmpty)
    }

    static let rejected: [(String, FlatYAML.Failure)] = [
        ("- a\n- b\n", .notMapping),
        ("just text\n", .notMapping),
        ("interval:\n  - 1\n", .notScalar(key: "interval", line: 1)),
        ("labels:\n  a: b\n", .notScalar(key: "labels", line: 1)),
        ("interval: [1, 2]\n", .notScalar(key: "interval", line: 1)),
        ("interval: {a: 1}\n", .notScalar(key: "interval", line: 1)),
        ("env: >\n  folded\n", .notScalar(key: "env", line: 1)),
        ("interval: [\n", .invalid(line: 1, reason: "unclosed [")),
        ("env: a\nenv: b\n", .invalid(line: 2, reason: "\"env\" appears twice")),
        ("env: *alias\n", .invalid(line: 1, reason: "anchors, aliases and tags are not supported")),
        ("env: !!str x\n", .invalid(line: 1, reason: "anchors, aliases and tags are not supported")),
        ("env: 'open\n", .invalid(line: 1, reason: "unclosed '")),
        ("env: \"a\" b\n", .invalid(line: 1, reason: "text after a quoted value")),
        ("env: \"\\q\"\n", .invalid(line: 1, reason: "unknown escape \\q")),
        ("env: a\n  b: c\n", .invalid(line: 2, reason: "unexpected indentation")),
        ("env: a\nnot a pair\n", .invalid(line: 2, reason: "expected \"key: value\"")),
        ("a b: c\n", .invalid(line: 1, reason: "keys must be plain words")),
        ("env: a\n...\nenv2: b\n", .invalid(line: 3, reason: "text after the end of the document")),
    ]

    @Test(arguments: rejected)
    func rejectedWithLine(_ text: String, _ failure: FlatYAML.Failure) {
        #expect(throws: failure) { try FlatYAML.parse(text) }
    }
}
