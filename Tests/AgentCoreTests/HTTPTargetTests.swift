@testable import AgentCore
import Testing

@Suite struct HTTPTargetTests {
    @Test func splitsTheServerURLIntoWhatTheClientSends() throws {
        let plain = try #require(HTTPTarget.parse("http://collector.example/ingest"))
        #expect(plain == HTTPTarget(tls: false, host: "collector.example", port: 80, hostHeader: "collector.example",
                                    requestTarget: "/ingest", authorization: nil))
        let tls = try #require(HTTPTarget.parse("HTTPS://Collector.example:8443/v1/ingest?tenant=a&x=1#frag"))
        #expect(tls.tls && tls.port == 8443 && tls.host == "Collector.example")
        #expect(tls.hostHeader == "Collector.example:8443" && tls.requestTarget == "/v1/ingest?tenant=a&x=1")
        #expect(tls.serverName == "Collector.example")
        // Default ports are left out of Host; no path means "/"; a query alone keeps its "?".
        #expect(HTTPTarget.parse("https://h:443")?.hostHeader == "h")
        #expect(HTTPTarget.parse("https://h:443")?.requestTarget == "/")
        #expect(HTTPTarget.parse("http://h:80?q=1")?.requestTarget == "/?q=1")
        #expect(HTTPTarget.parse("http://h:8080")?.hostHeader == "h:8080")
    }

    @Test func addressesAreNotServerNames() throws {
        let v6 = try #require(HTTPTarget.parse("https://[2001:db8::1]:9443/x"))
        #expect(v6.host == "2001:db8::1" && v6.port == 9443 && v6.hostHeader == "[2001:db8::1]:9443")
        #expect(v6.serverName == nil)
        #expect(HTTPTarget.parse("https://[::1]/")?.hostHeader == "[::1]")
        #expect(HTTPTarget.parse("https://127.0.0.1:8443/")?.serverName == nil)
        #expect(HTTPTarget.parse("https://127.0.0.1.example/")?.serverName == "127.0.0.1.example")
    }

    @Test func userInformationBecomesBasicCredentials() throws {
        // RFC 7617's example: Aladdin / open sesame.
        let t = try #require(HTTPTarget.parse("https://Aladdin:open%20sesame@h.example/in"))
        #expect(t.authorization == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(t.hostHeader == "h.example" && t.requestTarget == "/in")
        // The last "@" of the authority separates; an "@" in the path is path.
        #expect(HTTPTarget.parse("http://a%40b:p@h/x@y")?.authorization == "Basic " + "YUBiOnA=")
        #expect(HTTPTarget.parse("http://h/x@y")?.authorization == nil)
        #expect(HTTPTarget.parse("http://u@h/")?.authorization == "Basic dTo=", "user only: an empty password")
    }

    @Test func refusesWhatItCannotSendTo() {
        for bad in ["ftp://h/", "http://", "http://h:99999/", "http://h:0/", "h:80", "http:/h", "http://[::1/",
                    "http://[::1]:99999/", "http://[::1]x/", "http://[::1]:/", "http://h:/"] {
            #expect(HTTPTarget.parse(bad) == nil, "\(bad)")
        }
    }
}
