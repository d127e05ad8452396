/// The agent's validated settings. Built only by `ConfigResolver` (its defaults are the option
/// table's), so every value here has passed validation and none is written down twice.
public struct AgentConfiguration: Sendable {
    /// Where payloads go. May carry credentials; log `redactedServerURL` instead.
    public var serverURL: String
    public var secret: Secret
    /// Sent as `X-Agent-Key-Id` so a receiver with a keyring picks the key at once.
    public var keyID: String? = nil
    /// The secret's file (`--secret-file`), read again on SIGHUP; nil for `--secret`.
    public var secretFile: String? = nil
    /// Seconds between payloads.
    public var interval: Double
    public var tailLines: Int
    public var authWindowSeconds: Int
    public var cpuSpikePct: Double
    public var failedAuthThreshold: Int
    public var authSlowWindowSeconds: Int
    /// 0: the long window is off.
    public var authSlowThreshold: Int
    public var userEnumThreshold: Int
    public var distributedAddresses: Int
    public var authCountProbes: Bool
    public var baselineSamples: Int
    public var simulateAttack: Bool
    public var env: DeploymentEnv
    public var ownerTeam: String
    public var serverID: String
    public var maxLogEntries: Int
    public var healthHost: String
    public var healthPort: Int
    public var queueDir: String
    public var queueSegmentBytes: Int
    public var queueMaxBytes: Int
    public var drainBatch: Int
    /// Payloads a second while a backlog drains.
    public var drainRate: Double
    /// Bodies of at least this many bytes go gzip-compressed (0: never).
    public var compressMinBytes: Int
    public var authSource: AuthSourceChoice
    /// nil: auto-detect.
    public var authLog: String?
    /// nil: Docker monitoring is off (`--docker-socket none`).
    public var dockerSocket: String?
    public var maxLogLineBytes: Int
    public var maxDockerEvents: Int
    /// Most containers followed at once.
    public var maxContainers: Int
    /// Largest payload body; see `PayloadBudget`.
    public var maxPayloadBytes: Int
    public var shellAlertAll: Bool
    public var http5xxMin: Int
    public var http5xxRatio: Double
    public var diskPath: String
    public var procRoot: String
    public var caFile: String?
    public var sendTimeout: Double
    public var maxBufferedPayloads: Int
    public var logLevel: LogLevelName
    public var logFormat: LogFormat

    /// The server URL with any `user:password@` removed, for logs and endpoints.
    public var redactedServerURL: String { URLText.redactingCredentials(serverURL) }

    /// Every setting at the option table's default (as with no flag, variable or file), for
    /// the given server and secret.
    public static func defaults(serverURL: String, secret: Secret, serverID: String) -> AgentConfiguration {
        let resolver = ConfigResolver(flags: [:], environment: [:], hostname: serverID, readFile: { _ in [] })
        do {
            return try resolver.settings(serverURL: serverURL, secret: secret)
        } catch {
            preconditionFailure("the option table's defaults do not resolve: \(error)")
        }
    }
}

/// `--auth-source`: where failed logins are read.
public enum AuthSourceChoice: String, Sendable, CaseIterable {
    /// The auth log file if present, else journald, else off.
    case auto
    case file
    case journald
    case none
}

/// `--log-format`.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per event.
    case text
    /// One JSON object per line.
    case json
}

/// `--log-level`: swift-log's levels by name.
public enum LogLevelName: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// `--env`.
public enum DeploymentEnv: String, Sendable, CaseIterable {
    case prod, stage, dev
}

/// Small URL text helpers that need no Foundation URL.
public enum URLText {
    /// An absolute URL split at its authority, or nil when it has no "://", an empty host, an
    /// unclosed "[" or a port that is not 1-65535.
    public struct Parts: Sendable {
        /// Lowercased.
        public var scheme: String
        /// What precedes the authority's last "@", still percent-encoded.
        public var userInfo: Substring?
        /// IPv6 without its brackets.
        public var host: Substring
        public var port: Int?
        /// Path, query and fragment as written (may be empty).
        public var rest: Substring
    }

    public static func parts(_ url: String) -> Parts? {
        guard let sep = schemeSeparator(url) else { return nil }
        let afterScheme = url[sep.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        var hostPort = afterScheme[..<authorityEnd]
        var userInfo: Substring?
        if let at = hostPort.lastIndex(of: "@") {
            userInfo = hostPort[..<at]
            hostPort = hostPort[hostPort.index(after: at)...]
        }
        var host = hostPort
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let afterBracket = hostPort[hostPort.index(after: close)...]
            if !afterBracket.isEmpty {
                guard afterBracket.first == ":" else { return nil }
                portText = afterBracket.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy(\.isNumber), let p = Int(portText), p > 0, p < 65536 else { return nil }
            port = p
        }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return Parts(scheme: url[..<sep.lowerBound].lowercased(), userInfo: userInfo, host: host, port: port,
                     rest: afterScheme[authorityEnd...])
    }

    /// Scheme ("http"/"https", lowercased) and host of an absolute URL, or nil.
    public static func schemeAndHost(_ url: String) -> (scheme: String, host: String)? {
        parts(url).map { ($0.scheme, String($0.host)) }
    }

    /// The first "://". Not `firstRange(of:)`: that generic search lives in _StringProcessing,
    /// and calling it once at start-up kept about 200 kB of that library's code resident.
    static func schemeSeparator(_ url: String) -> Range<String.Index>? {
        let bytes = url.utf8
        var from = bytes.startIndex
        while let colon = bytes[from...].firstIndex(of: UInt8(ascii: ":")) {
            let rest = bytes[bytes.index(after: colon)...]
            if rest.starts(with: "//".utf8) { return colon..<bytes.index(colon, offsetBy: 3) }
            from = rest.startIndex
        }
        return nil
    }

    public static func redactingCredentials(_ url: String) -> String {
        guard let sep = schemeSeparator(url) else { return url }
        let rest = url[sep.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<sep.upperBound]) + "***@" + String(rest[rest.index(after: at)...])
    }
}
