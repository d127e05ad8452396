import AgentCore

/// `--database postgres://user[:password]@host[:port]/name[?sslmode=disable|prefer|require]`
/// (`postgresql://` too; percent-escapes decoded). The password may instead come from
/// `PGPASSWORD`, which keeps it out of the process list. Nothing derived from it (the log's
/// location, an error) ever contains the password.
public struct DatabaseURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    /// The URL without its password, for the log and `/healthz`.
    public var redacted: String {
        "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    public static func parse(_ text: String, flag: String, passwordFromEnvironment: String? = nil) throws(ConfigError) -> DatabaseURL {
        func fail(_ why: String) -> ConfigError {
            ConfigError(flag: flag, "\(why) (expected postgres://user[:password]@host[:port]/database)")
        }
        var rest = Substring(text)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.hasPrefix($0) }) else { throw fail("not a postgres:// URL") }
        rest = rest.dropFirst(scheme.count)
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("no database name") }
        let database = try decode(rest[rest.index(after: slash)...], fail)
        let authority = rest[..<slash]
        guard let at = authority.lastIndex(of: "@") else { throw fail("no user") }
        let userInfo = authority[..<at], hostPort = authority[authority.index(after: at)...]
        var user = userInfo, password: Substring? = nil
        if let colon = userInfo.firstIndex(of: ":") {
            user = userInfo[..<colon]
            password = userInfo[userInfo.index(after: colon)...]
        }
        var host = hostPort, port = 5432
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try parsePort(after.dropFirst(), fail) } else if !after.isEmpty { throw fail("bad host") }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = try parsePort(hostPort[hostPort.index(after: colon)...], fail)
        }
        guard !host.isEmpty else { throw fail("no host") }
        guard !user.isEmpty else { throw fail("no user") }
        guard !database.isEmpty else { throw fail("no database name") }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0] == "sslmode" else { throw fail("unknown parameter \(kv[0].prefix(40)) (only sslmode)") }
            guard let mode = TLSMode(rawValue: String(kv[1])) else {
                throw fail("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            tls = mode
        }
        var decodedPassword: String? = nil
        if let password { decodedPassword = try decode(password, fail) }
        return DatabaseURL(user: try decode(user, fail), password: decodedPassword ?? passwordFromEnvironment, host: String(host),
                           port: port, database: database, tls: tls)
    }

    private static func parsePort(_ text: Substring, _ fail: (String) -> ConfigError) throws(ConfigError) -> Int {
        guard let p = Int(text), (1...65_535).contains(p) else { throw fail("port must be 1 to 65535") }
        return p
    }

    /// Percent-decoding; an escape that is not two hex digits or not UTF-8 is an error that does
    /// not quote the text (it may be the password).
    private static func decode(_ text: Substring, _ fail: (String) -> ConfigError) throws(ConfigError) -> String {
        var bytes = [UInt8]()
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "%") {
                let h = utf8.index(after: i)
                guard h < utf8.endIndex, utf8.index(after: h) < utf8.endIndex,
                      let hi = Hex.value(utf8[h]), let lo = Hex.value(utf8[utf8.index(after: h)]) else { throw fail("a broken %-escape") }
                bytes.append(hi << 4 | lo)
                i = utf8.index(h, offsetBy: 2)
            } else {
                bytes.append(b)
                i = utf8.index(after: i)
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("a %-escape that is not UTF-8") }
        return s
    }
}
