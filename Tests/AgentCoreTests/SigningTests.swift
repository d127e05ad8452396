@testable import AgentCore
import Foundation
import TestSupport
import Testing

@Suite struct SigningTests {
    let secret = "s3cr3t-key with spaces"

    @Test(arguments: [#"{"a":1}"#, "", "line1\nline2 ünïcödé"])
    func matchesOpenSSL(_ body: String) async throws {
        let ts: Int64 = 1_736_937_000
        let ours = PayloadSigner(secret: Secret(secret)).signature(timestamp: ts, body: Array(body.utf8))
        let message = Array("\(ts).".utf8) + Array(body.utf8)
        let out = try await runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", secret], stdin: message)
        // openssl prints "SHA2-256(stdin)= <hex>" (3.x) or "(stdin)= <hex>"
        let theirs = out.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ours == theirs)
        #expect(ours.count == 64 && ours == ours.lowercased())
    }

    @Test func matchesPythonHMAC() async throws {
        let body = Array(try PayloadCoding.encode(PayloadTests.sample()))
        let ts: Int64 = 1_700_000_000
        let script = "import hmac,hashlib,sys; d=sys.stdin.buffer.read(); print(hmac.new(sys.argv[1].encode(), d, hashlib.sha256).hexdigest())"
        let out = try await runProcess("/usr/bin/env", ["python3", "-c", script, secret], stdin: Array("\(ts).".utf8) + body)
        let header = PayloadSigner(secret: Secret(secret)).headerValue(timestamp: ts, body: body)
        #expect(header == "sha256=" + out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func verifyIsExact() {
        let s = PayloadSigner(secret: Secret(secret))
        let body = Array("{}".utf8)
        let good = s.headerValue(timestamp: 5, body: body)
        #expect(s.verify(headerValue: good, timestamp: 5, body: body))
        #expect(!s.verify(headerValue: good, timestamp: 6, body: body))
        #expect(!s.verify(headerValue: good, timestamp: 5, body: Array("{ }".utf8)))
        #expect(!s.verify(headerValue: String(good.dropFirst(7)), timestamp: 5, body: body), "prefix required")
        #expect(!s.verify(headerValue: good.uppercased(), timestamp: 5, body: body))
        #expect(!s.verify(headerValue: "sha256=", timestamp: 5, body: body))
        #expect(!PayloadSigner(secret: Secret("other")).verify(headerValue: good, timestamp: 5, body: body))
    }

    @Test func secretNeverPrints() {
        let s = Secret("hunter2")
        #expect("\(s)" == "<redacted>" && String(reflecting: s) == "<redacted>")
        #expect(!"\(AgentConfiguration.defaults(serverURL: "http://x", secret: s, serverID: "a"))".contains("hunter2"))
    }
}

@Suite struct IngestVerifierTests {
    let v = IngestVerifier(secret: Secret("k"), maxSkewSeconds: 300)
    let body = try! PayloadCoding.encode(PayloadTests.sample())

    func sign(_ ts: Int64) -> String { PayloadSigner(secret: Secret("k")).headerValue(timestamp: ts, body: body) }

    @Test func acceptsValid() throws {
        let r = v.verify(timestamp: "1000", signature: sign(1000), body: body, now: 1200)
        #expect(try r.get() == PayloadTests.sample())
    }

    @Test func rejections() {
        func status(_ r: Result<Payload, IngestRejection>) -> Int? { if case .failure(let e) = r { e.status } else { nil } }
        #expect(status(v.verify(timestamp: nil, signature: sign(1000), body: body, now: 1000)) == 401)
        #expect(status(v.verify(timestamp: "abc", signature: sign(1000), body: body, now: 1000)) == 401)
        #expect(status(v.verify(timestamp: "1000", signature: sign(1000), body: body, now: 1301)) == 401, "too old")
        #expect(status(v.verify(timestamp: "1000", signature: sign(1000), body: body, now: 699)) == 401, "from the future")
        #expect(status(v.verify(timestamp: "1000", signature: nil, body: body, now: 1000)) == 401)
        #expect(status(v.verify(timestamp: "1000", signature: sign(1001), body: body, now: 1000)) == 401)
        let junk = Array("not json".utf8)
        let junkSig = PayloadSigner(secret: Secret("k")).headerValue(timestamp: 1000, body: junk)
        #expect(status(v.verify(timestamp: "1000", signature: junkSig, body: junk, now: 1000)) == 400)
    }
}

/// Keyrings: `id: secret` lines; a request naming a key is checked against it alone, one naming
/// none against every key, and the key that verified is reported.
@Suite struct KeyringTests {
    let body = try! PayloadCoding.encode(PayloadTests.sample())

    @Test func parsesLinesCommentsAndSecretsWithColons() throws {
        let keys = try Keyring.parse(Array("# rotated 2026-12\n\nold: s3cret:with:colons\r\n  new:\tfresh \nlast-1.x_y: z".utf8))
        #expect(keys.map(\.id) == ["old", "new", "last-1.x_y"])
        #expect(PayloadSigner(secret: keys[0].secret).signature(timestamp: 1, body: body)
                == PayloadSigner(secret: Secret("s3cret:with:colons")).signature(timestamp: 1, body: body))
        #expect(PayloadSigner(secret: keys[1].secret).signature(timestamp: 1, body: body)
                == PayloadSigner(secret: Secret("fresh ")).signature(timestamp: 1, body: body), "the secret is the rest of the line")
    }

    @Test(arguments: [("no colon here", "line 1"), ("bad id!: x", "line 1"), ("a: x\na: y", "listed twice"), ("a:   ", "empty secret"),
                      ((0...16).map { "k\($0): topsecret" }.joined(separator: "\n"), "more than 16")])
    func refusesWhatIsNotAKeyringNamingTheLineNeverTheSecret(_ text: String, _ expected: String) {
        do {
            _ = try Keyring.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(expected) && !error.message.contains("topsecret") && error.flag == "keyring", "\(error)")
        }
    }

    @Test func verifiesWithTheNamedKeyFirstThenAnyKey() throws {
        let v = IngestVerifier(keys: [VerifyingKey(id: nil, secret: Secret("shared")), VerifyingKey(id: "old", secret: Secret("a")),
                                      VerifyingKey(id: "new", secret: Secret("b"))], maxSkewSeconds: 300)
        let signedNew = PayloadSigner(secret: Secret("b")).headerValue(timestamp: 1000, body: body)
        #expect(try v.verify(timestamp: "1000", signature: signedNew, keyID: "new", body: body, now: 1000).get().keyID == "new")
        #expect(try v.verify(timestamp: "1000", signature: signedNew, keyID: nil, body: body, now: 1000).get().keyID == "new", "no id: each key")
        let shared = PayloadSigner(secret: Secret("shared")).headerValue(timestamp: 1000, body: body)
        #expect(try v.verify(timestamp: "1000", signature: shared, keyID: nil, body: body, now: 1000).get().keyID == nil)
        func reason(_ sig: String, _ id: String?) -> String? {
            if case .failure(let e) = v.verify(timestamp: "1000", signature: sig, keyID: id, body: body, now: 1000) { e.reason } else { nil }
        }
        // An agent still naming its old key (or one since removed) after its secret was rotated:
        // verified by the key that matches, and that key is the one recorded.
        #expect(try v.verify(timestamp: "1000", signature: signedNew, keyID: "old", body: body, now: 1000).get().keyID == "new")
        #expect(try v.verify(timestamp: "1000", signature: signedNew, keyID: "gone", body: body, now: 1000).get().keyID == "new")
        let forged = PayloadSigner(secret: Secret("guess")).headerValue(timestamp: 1000, body: body)
        #expect(reason(forged, "new") == "signature mismatch", "naming a key never widens what verifies")
        #expect(reason(forged, nil) == "signature mismatch")
    }
}
