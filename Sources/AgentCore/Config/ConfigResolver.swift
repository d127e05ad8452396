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
    /// Reads the secret file (and checks the CA file) as bytes; injected so tests need no files.
    public var readFile: (String) throws -> [UInt8]

    public init(flags: [String: String], environment: [String: String], hostname: String,
                readFile: @escaping (String) throws -> [UInt8]) {
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

    /// A number within the option's range (fractions allowed). Out-of-range values are refused
    /// here, so nothing downstream multiplies an unbounded number.
    public func number(_ spec: OptionSpec, what: String) throws(ConfigError) -> Double {
        guard let r = raw(spec) else { return Double(spec.defaultValue!)! }
        guard let v = Double(r.text.trimmed), v.isFinite else {
            throw ConfigError(flag: spec.flag, "must be a number of \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        try check(v, spec, r, what: what)
        return v
    }

    /// A whole number within the option's range.
    public func integer(_ spec: OptionSpec, what: String) throws(ConfigError) -> Int {
        guard let r = raw(spec) else { return Int(spec.defaultValue!)! }
        guard let v = Int(r.text.trimmed) else {
            throw ConfigError(flag: spec.flag, "must be a whole number of \(what), got \(AgentError.quote(r.text))\(r.origin)")
        }
        try check(Double(v), spec, r, what: what)
        return v
    }

    private func check(_ v: Double, _ spec: OptionSpec, _ r: Raw, what: String) throws(ConfigError) {
        guard let range = spec.range, !range.contains(v) else { return }
        throw ConfigError(flag: spec.flag, "must be from \(spec.rangeText!) \(what), got \(AgentError.quote(r.text))\(r.origin)")
    }

    /// One of an enumeration's values, compared in lower case; the error lists them all.
    public func choice<E: RawRepresentable & CaseIterable>(_ spec: OptionSpec, _: E.Type) throws(ConfigError) -> E where E.RawValue == String {
        let text = string(spec).lowercased()
        if let value = E(rawValue: text) { return value }
        let names = E.allCases.map(\.rawValue).joined(separator: ", ")
        throw ConfigError(flag: spec.flag, "must be one of \(names), got \(AgentError.quote(text))\(raw(spec)?.origin ?? "")")
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
        // Spaces and control characters (CR/LF above all) would be sent in the request line or
        // Host header of every request; refused here instead of failing at every send.
        guard !urlRaw.text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw ConfigError(flag: O.serverURL.flag,
                "must not contain spaces or control characters, got \(AgentError.quote(URLText.redactingCredentials(urlRaw.text)))\(urlRaw.origin)")
        }
        // Secret: exactly one of --secret / --secret-file.
        return try settings(serverURL: urlRaw.text, secret: try resolveSecret())
    }

    /// Every setting but the server URL and the secret: flag, then variable, then file, then the
    /// option table's default, each validated against its option.
    func settings(serverURL: String, secret: Secret) throws(ConfigError) -> AgentConfiguration {
        typealias O = AgentOptions
        let (healthHost, healthPort) = try hostPort(O.healthAddr)
        let caFile = raw(O.caFile)?.text
        if let caFile {
            do { _ = try readFile(caFile) } catch {
                throw ConfigError(flag: O.caFile.flag, "cannot read \(AgentError.quote(caFile)): \(error)")
            }
        }
        for spec in [O.queueDir, O.dockerSocket, O.diskPath, O.procRoot] where string(spec).isEmpty {
            throw ConfigError(flag: spec.flag, "must not be empty")
        }
        let authLog = string(O.authLog)
        let dockerSocket = string(O.dockerSocket)
        var c = AgentConfiguration(
            serverURL: serverURL, secret: secret,
            interval: try number(O.interval, what: "seconds"),
            tailLines: try integer(O.tailLines, what: "lines"),
            authWindowSeconds: try integer(O.authWindowSeconds, what: "seconds"),
            cpuSpikePct: try number(O.cpuSpikePct, what: "percent"),
            // The range's top is BruteForceDetector.maxWindowCount: 8 buckets of 255 per window.
            failedAuthThreshold: try integer(O.failedAuthThreshold, what: "failures"),
            authSlowWindowSeconds: try integer(O.authSlowWindowSeconds, what: "seconds"),
            authSlowThreshold: try integer(O.authSlowThreshold, what: "failures"),
            userEnumThreshold: try integer(O.userEnumThreshold, what: "user names"),
            distributedAddresses: try integer(O.distributedAddresses, what: "addresses"),
            authCountProbes: try bool(O.authCountProbes),
            baselineSamples: try integer(O.baselineSamples, what: "samples"),
            simulateAttack: try bool(O.simulateAttack),
            env: try choice(O.env, DeploymentEnv.self),
            ownerTeam: string(O.ownerTeam),
            serverID: raw(O.serverID)?.text ?? hostname,
            maxLogEntries: try integer(O.maxLogEntries, what: "entries"),
            healthHost: healthHost, healthPort: healthPort,
            queueDir: string(O.queueDir),
            queueSegmentBytes: try integer(O.queueSegmentBytes, what: "bytes"),
            queueMaxBytes: try integer(O.queueMaxBytes, what: "bytes"),
            drainBatch: try integer(O.drainBatch, what: "payloads"),
            drainRate: try number(O.drainRate, what: "payloads per second"),
            compressMinBytes: try integer(O.compressMinBytes, what: "bytes"),
            authSource: try choice(O.authSource, AuthSourceChoice.self),
            authLog: authLog == "auto" ? nil : authLog,
            dockerSocket: dockerSocket == "none" ? nil : dockerSocket,
            maxLogLineBytes: try integer(O.maxLogLineBytes, what: "bytes"),
            maxDockerEvents: try integer(O.maxDockerEvents, what: "events"),
            maxContainers: try integer(O.maxContainers, what: "containers"),
            maxPayloadBytes: try integer(O.maxPayloadBytes, what: "bytes"),
            shellAlertAll: try bool(O.shellAlertAll),
            http5xxMin: try integer(O.http5xxMin, what: "responses"),
            http5xxRatio: try number(O.http5xxRatio, what: "(a fraction)"),
            diskPath: string(O.diskPath),
            procRoot: string(O.procRoot),
            caFile: caFile,
            sendTimeout: try number(O.sendTimeout, what: "seconds"),
            maxBufferedPayloads: try integer(O.maxBufferedPayloads, what: "payloads"),
            logLevel: try choice(O.logLevel, LogLevelName.self),
            logFormat: try choice(O.logFormat, LogFormat.self))
        c.keyID = try keyID()
        c.secretFile = raw(AgentOptions.secretFile)?.text
        return c
    }

    /// `--key-id`, when given: a valid key id.
    func keyID() throws(ConfigError) -> String? {
        guard let v = raw(AgentOptions.keyID)?.text else { return nil }
        guard Keyring.isValidKeyID(v) else { throw ConfigError(flag: AgentOptions.keyID.flag, "must be 1 to 64 of A-Z a-z 0-9 . _ -, got \(AgentError.quote(v))") }
        return v
    }

    /// A receiver's keys: the shared secret (`--secret`/`--secret-file`) and the keyring file's
    /// entries (`--keyring`); at least one of the two. Read again on SIGHUP.
    public func receiverKeys() throws(ConfigError) -> [VerifyingKey] {
        var keys: [VerifyingKey] = []
        let keyring = raw(ReceiverOptions.keyring)
        if keyring == nil || raw(AgentOptions.secret) != nil || raw(AgentOptions.secretFile) != nil {
            keys.append(VerifyingKey(id: nil, secret: try resolveSecret()))
        }
        if let path = keyring?.text {
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch {
                throw ConfigError(flag: ReceiverOptions.keyring.flag, "cannot read \(AgentError.quote(path)): \(error)")
            }
            let entries: [(id: String, secret: Secret)]
            do { entries = try Keyring.parse(bytes) } catch {
                throw ConfigError(flag: ReceiverOptions.keyring.flag, "\(AgentError.quote(path)) \(error.message)")
            }
            guard !entries.isEmpty else { throw ConfigError(flag: ReceiverOptions.keyring.flag, "\(AgentError.quote(path)) holds no key") }
            keys += entries.map { VerifyingKey(id: $0.id, secret: $0.secret) }
        }
        return keys
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
            let content: [UInt8]
            do { content = try readFile(f.text) } catch {
                throw ConfigError(flag: AgentOptions.secretFile.flag, "cannot read \(AgentError.quote(f.text))\(f.origin): \(error)")
            }
            return try Self.secret(fileBytes: content, path: f.text)
        }
    }

    /// A secret file's key: the file's bytes, not text decoded from them (two binary secrets must
    /// never become the same key through U+FFFD replacement). One trailing newline goes.
    public static func secret(fileBytes content: [UInt8], path: String) throws(ConfigError) -> Secret {
        var value = content[...]
        if value.last == 10 { value = value.dropLast(); if value.last == 13 { value = value.dropLast() } }
        guard !value.isEmpty else {
            throw ConfigError(flag: AgentOptions.secretFile.flag, "file \(AgentError.quote(path)) is empty")
        }
        return Secret(bytes: Array(value))
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
