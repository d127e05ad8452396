/// A configuration problem, naming the flag (and the variable when the value came from it).
/// Never carries the secret's value.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let flag: String
    public let message: String
    public let code: AgentErrorCode = .invalidConfiguration

    public init(flag: String, _ message: String) {
        self.flag = flag
        self.message = message
    }

    /// One line: `--interval: must be a positive number of seconds, got "abc" (from INTERVAL)`.
    public var description: String { "--\(flag): \(message)" }
}

/// Turns raw flag values and environment variables into a validated `AgentConfiguration`.
/// Precedence: flag > environment > default. Pure: file reads are injected.
/// One value of the config file and where it stood.
public struct ConfigFileValue: Sendable, Equatable {
    public var text: String
    /// "path:line", for error messages.
    public var origin: String

    public init(text: String, origin: String) {
        self.text = text
        self.origin = origin
    }
}

public struct ConfigResolver {
    /// Values given on the command line, keyed by flag name (`interval`).
    public var flags: [String: String]
    /// The process environment.
    public var environment: [String: String]
    /// Used for the server-id default.
    public var hostname: String
    /// Reads the secret file; injected so tests need no files.
    public var readFile: (String) throws -> String

    public init(flags: [String: String], environment: [String: String], hostname: String,
                readFile: @escaping (String) throws -> String) {
        self.flags = flags
        self.environment = environment
        self.hostname = hostname
        self.readFile = readFile
    }

    /// Values from `--config FILE`, by flag name, with where each stood ("agent.yaml:12").
    public var file: [String: ConfigFileValue] = [:]

    /// A raw value and where it came from, so errors can say "(from INTERVAL)" or "(from agent.yaml:3)".
    struct Raw {
        let text: String
        let fromEnv: String?
        var origin: String { fromEnv.map { " (from \($0))" } ?? "" }
    }

    /// Precedence: flag, then environment, then config file, then default.
    func raw(_ spec: OptionSpec) -> Raw? {
        if let v = flags[spec.flag] { return Raw(text: v, fromEnv: nil) }
        if let v = environment[spec.env], !v.isEmpty { return Raw(text: v, fromEnv: spec.env) }
        if let v = file[spec.flag] { return Raw(text: v.text, fromEnv: v.origin) }
        return nil
    }

    public func string(_ spec: OptionSpec) -> String { raw(spec)?.text ?? spec.defaultValue ?? "" }

    public func positiveDouble(_ spec: OptionSpec, what: String) throws(ConfigError) -> Double {
        guard let r = raw(spec) else { return Double(spec.defaultValue!)! }
        guard let v = Double(r.text.trimmed), v.isFinite else {
            throw ConfigError(flag: spec.flag, "must be a number of \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        guard v > 0 else {
            throw ConfigError(flag: spec.flag, "must be greater than 0 \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        return v
    }

    public func integer(_ spec: OptionSpec, min: Int, what: String) throws(ConfigError) -> Int {
        guard let r = raw(spec) else { return Int(spec.defaultValue!)! }
        guard let v = Int(r.text.trimmed) else {
            throw ConfigError(flag: spec.flag, "must be a whole number of \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        guard v >= min else {
            throw ConfigError(flag: spec.flag, "must be at least \(min) \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        return v
    }

    func percentage(_ spec: OptionSpec) throws(ConfigError) -> Double {
        guard let r = raw(spec) else { return Double(spec.defaultValue!)! }
        guard let v = Double(r.text.trimmed), v.isFinite, v >= 0, v <= 100 else {
            throw ConfigError(flag: spec.flag, "must be a percentage between 0 and 100, got \(AgentError.quote(r.text))\(r.origin)")
        }
        return v
    }

    func fraction(_ spec: OptionSpec) throws(ConfigError) -> Double {
        guard let r = raw(spec) else { return Double(spec.defaultValue!)! }
        guard let v = Double(r.text.trimmed), v.isFinite, v >= 0, v <= 1 else {
            throw ConfigError(flag: spec.flag, "must be a fraction between 0 and 1, got \(AgentError.quote(r.text))\(r.origin)")
        }
        return v
    }

    func bool(_ spec: OptionSpec) throws(ConfigError) -> Bool {
        guard let r = raw(spec) else { return spec.defaultValue == "true" }
        switch r.text.trimmed.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ConfigError(flag: spec.flag, "must be true or false, got \(AgentError.quote(r.text))\(r.origin)")
        }
    }

    public func resolve() throws(ConfigError) -> AgentConfiguration {
        typealias O = AgentOptions
        // Server URL
        guard let urlRaw = raw(O.serverURL), !urlRaw.text.isEmpty else {
            throw ConfigError(flag: O.serverURL.flag, "is required (or set \(O.serverURL.env))")
        }
        guard let parts = URLText.schemeAndHost(urlRaw.text), parts.scheme == "http" || parts.scheme == "https" else {
            throw ConfigError(flag: O.serverURL.flag,
                "must be an http:// or https:// URL with a host, got \(AgentError.quote(URLText.redactingCredentials(urlRaw.text)))\(urlRaw.origin)")
        }
        // Secret: exactly one of --secret / --secret-file.
        let secret = try resolveSecret()

        let interval = try positiveDouble(O.interval, what: "seconds")
        let tailLines = try integer(O.tailLines, min: 0, what: "lines")
        let authWindow = try integer(O.authWindowSeconds, min: 1, what: "seconds")
        let cpuSpike = try percentage(O.cpuSpikePct)
        let threshold = try integer(O.failedAuthThreshold, min: 1, what: "failures")
        guard threshold <= BruteForceDetector.maxWindowCount else {
            throw ConfigError(flag: O.failedAuthThreshold.flag,
                              "must be at most \(BruteForceDetector.maxWindowCount) (8 buckets of 255 per window), got \(threshold)")
        }
        let baseline = try integer(O.baselineSamples, min: 2, what: "samples")
        let simulate = try bool(O.simulateAttack)
        let env = string(O.env)
        guard ["prod", "stage", "dev"].contains(env) else {
            throw ConfigError(flag: O.env.flag, "must be one of prod, stage, dev, got \(AgentError.quote(env))\(raw(O.env)?.origin ?? "")")
        }
        let maxLogs = try integer(O.maxLogEntries, min: 1, what: "entries")
        let (healthHost, healthPort) = try hostPort(O.healthAddr)
        let sendTimeout = try positiveDouble(O.sendTimeout, what: "seconds")
        let maxBuffered = try integer(O.maxBufferedPayloads, min: 1, what: "payloads")
        let logLevel = string(O.logLevel).lowercased()
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigError(flag: O.logLevel.flag, "must be one of trace, debug, info, notice, warning, error, critical, got \(AgentError.quote(logLevel))")
        }
        let segmentBytes = try integer(O.queueSegmentBytes, min: 4096, what: "bytes")
        let maxBytes = try integer(O.queueMaxBytes, min: 4096, what: "bytes")
        let drainBatch = try integer(O.drainBatch, min: 1, what: "payloads")
        let authLog = string(O.authLog)
        let authSource = string(O.authSource)
        guard ["auto", "file", "journald", "none"].contains(authSource) else {
            throw ConfigError(flag: O.authSource.flag, "must be one of auto, file, journald, none, got \(AgentError.quote(authSource))\(raw(O.authSource)?.origin ?? "")")
        }
        let caFile = raw(O.caFile)?.text
        if let caFile {
            do { _ = try readFile(caFile) } catch {
                throw ConfigError(flag: O.caFile.flag, "cannot read \(AgentError.quote(caFile)): \(error)")
            }
        }
        for spec in [O.queueDir, O.dockerSocket, O.diskPath, O.procRoot] where string(spec).isEmpty {
            throw ConfigError(flag: spec.flag, "must not be empty")
        }
        let serverID = raw(O.serverID)?.text ?? hostname

        var configuration = AgentConfiguration(
            serverURL: urlRaw.text, secret: secret, interval: interval, tailLines: tailLines,
            authWindowSeconds: authWindow, cpuSpikePct: cpuSpike, failedAuthThreshold: threshold,
            baselineSamples: baseline, simulateAttack: simulate, env: env, ownerTeam: string(O.ownerTeam),
            serverID: serverID, maxLogEntries: maxLogs, healthHost: healthHost, healthPort: healthPort,
            queueDir: string(O.queueDir), queueSegmentBytes: segmentBytes, queueMaxBytes: maxBytes, drainBatch: drainBatch,
            authLog: authLog == "auto" ? nil : authLog,
            dockerSocket: string(O.dockerSocket), diskPath: string(O.diskPath), procRoot: string(O.procRoot),
            caFile: caFile, sendTimeout: sendTimeout, maxBufferedPayloads: maxBuffered, logLevel: logLevel)
        configuration.authSource = authSource
        if configuration.dockerSocket == "none" { configuration.dockerSocket = nil }
        configuration.maxLogLineBytes = try integer(O.maxLogLineBytes, min: 64, what: "bytes")
        configuration.maxDockerEvents = try integer(O.maxDockerEvents, min: 1, what: "events")
        configuration.shellAlertAll = try bool(O.shellAlertAll)
        configuration.http5xxMin = try integer(O.http5xxMin, min: 1, what: "responses")
        configuration.http5xxRatio = try fraction(O.http5xxRatio)
        configuration.logFormat = string(O.logFormat).lowercased()
        guard ["text", "json"].contains(configuration.logFormat) else {
            throw ConfigError(flag: O.logFormat.flag, "must be text or json, got \(AgentError.quote(configuration.logFormat))\(raw(O.logFormat)?.origin ?? "")")
        }
        return configuration
    }

    /// Exactly one of --secret / --secret-file; the file's one trailing newline is dropped.
    public func resolveSecret() throws(ConfigError) -> Secret {
        let inline = raw(AgentOptions.secret)
        let file = raw(AgentOptions.secretFile)
        switch (inline, file) {
        case (nil, nil):
            throw ConfigError(flag: AgentOptions.secret.flag,
                "is required: set --secret, \(AgentOptions.secret.env), --secret-file or \(AgentOptions.secretFile.env)")
        case (.some, .some):
            throw ConfigError(flag: AgentOptions.secretFile.flag, "cannot be combined with --secret; use one of them")
        case (let s?, nil):
            guard !s.text.isEmpty else { throw ConfigError(flag: AgentOptions.secret.flag, "must not be empty") }
            return Secret(s.text)
        case (nil, let f?):
            let content: String
            do { content = try readFile(f.text) } catch {
                throw ConfigError(flag: AgentOptions.secretFile.flag, "cannot read \(AgentError.quote(f.text))\(f.origin): \(error)")
            }
            // "\r\n" is a single Character in Swift, so one dropLast removes either line ending.
            var value = Substring(content)
            if value.last == "\n" || value.last == "\r\n" { value = value.dropLast() }
            guard !value.isEmpty else {
                throw ConfigError(flag: AgentOptions.secretFile.flag, "file \(AgentError.quote(f.text)) is empty")
            }
            return Secret(String(value))
        }
    }

    public func hostPort(_ spec: OptionSpec) throws(ConfigError) -> (String, Int) {
        let text = string(spec)
        let origin = raw(spec)?.origin ?? ""
        guard let colon = text.lastIndex(of: ":") else {
            throw ConfigError(flag: spec.flag, "must be host:port, got \(AgentError.quote(text))\(origin)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else {
            throw ConfigError(flag: spec.flag, "must be host:port with a port 0-65535, got \(AgentError.quote(text))\(origin)")
        }
        return (host, port)
    }
}

extension String {
    var trimmed: String { String(Substring(self).trimmingSpaces()) }
}
