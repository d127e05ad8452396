/// What the agent's HTTP client needs from `--server-url`: where to connect, whether to use TLS
/// (and the name to verify), the `Host` header, the request target and `user:password` from the
/// URL as Basic credentials (as curl sends them). Parsed once at start-up, without Foundation.
public struct HTTPTarget: Sendable, Equatable {
    public var tls: Bool
    /// Host name or address, IPv6 without brackets.
    public var host: String
    public var port: Int
    /// `host`, or `host:port` when the port is not the scheme's default; IPv6 in brackets.
    public var hostHeader: String
    /// Path and query; "/" when the URL has none. The fragment is never sent.
    public var requestTarget: String
    /// `Basic <base64(user:password)>` when the URL carries user information (percent-decoded).
    public var authorization: String?

    /// The name TLS sends (SNI) and verifies: the host, unless it is an IP address (then the
    /// certificate is checked against the address itself).
    public var serverName: String? {
        AddressKey.parseIP(Array(host.utf8)) == nil ? host : nil
    }

    /// nil unless `url` is an absolute http:// or https:// URL with a host and a valid port.
    public static func parse(_ url: String) -> HTTPTarget? {
        guard let parts = URLText.parts(url), parts.scheme == "http" || parts.scheme == "https" else { return nil }
        var authorization: String?
        if let userInfo = parts.userInfo {
            var userPassword = percentDecoded(userInfo)
            if !userInfo.contains(":") { userPassword.append(UInt8(ascii: ":")) } // RFC 7617: user-id ":" password
            authorization = "Basic " + base64(userPassword)
        }
        let tls = parts.scheme == "https"
        let defaultPort = tls ? 443 : 80
        let port = parts.port ?? defaultPort
        let host = String(parts.host)
        let bracketed = host.contains(":") ? "[" + host + "]" : host
        var target = parts.rest
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        let requestTarget = target.hasPrefix("/") ? String(target) : "/" + target
        return HTTPTarget(tls: tls, host: host, port: port,
                          hostHeader: port == defaultPort ? bracketed : bracketed + ":" + String(port),
                          requestTarget: requestTarget, authorization: authorization)
    }

    /// `%XX` escapes decoded to bytes; anything else kept as it is.
    static func percentDecoded(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = Hex.value(bytes[i + 1]), let lo = Hex.value(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Standard base64 with padding (RFC 4648 §4).
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = bytes.count - i
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
