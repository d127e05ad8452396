/// One option: its flag, environment variable, `--config` key, default, range and help. The
/// single source for the command line's declarations and `--help`, configuration resolution
/// (flag, variable, file, default), the README table and packaging/agent.env.example.
public struct OptionSpec: Sendable, Hashable {
    /// Long flag name without dashes, e.g. `server-url`.
    public let flag: String
    /// Environment variable consulted when the flag is absent, e.g. `SERVER_URL`.
    public let env: String
    /// Default as shown to users; nil when there is none (required or optional without default).
    public let defaultValue: String?
    public let summary: String
    /// Accepted values of a numeric option, inclusive. Every number an option takes is bounded:
    /// configuration is outside input, and an unbounded value (1e300 seconds, Int64.max bytes)
    /// would overflow the arithmetic it feeds.
    public let range: ClosedRange<Double>?
    /// What `--help` calls the value (`seconds`, `path`); nil for a switch that takes none
    /// (`--simulate-attack`), which the environment and the file take as true or false.
    public let valueName: String?

    public init(_ flag: String, env: String, default defaultValue: String?, range: ClosedRange<Double>? = nil,
                value valueName: String?, _ summary: String) {
        self.flag = flag
        self.env = env
        self.defaultValue = defaultValue
        self.range = range
        self.valueName = valueName
        self.summary = summary
    }

    /// The key in a `--config` file: the flag in snake_case.
    public var yamlKey: String { flag.replacing("-", with: "_") }

    /// The flag as a Swift property name (`server-url` → `serverUrl`, `http-5xx-min` → `http5xxMin`):
    /// what the command line's declaration of the option is called.
    public var propertyName: String {
        let parts = flag.split(separator: "-")
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// "0.1 to 86400", as `--help` and the README show the range.
    public var rangeText: String? {
        range.map { Self.number($0.lowerBound) + " to " + Self.number($0.upperBound) }
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// The summary with the range, as the README table shows it.
    public var fullSummary: String {
        rangeText.map { summary + " (" + $0 + ")" } ?? summary
    }

    /// Help line: summary plus range, variable and default, as `--help` prints it.
    public var helpText: String {
        var s = fullSummary + " (env: " + env
        if let defaultValue { s += "; default: " + defaultValue }
        return s + ")"
    }
}

/// Every option of the agent. Later features add theirs here.
public enum AgentOptions {
    public static let serverURL = OptionSpec("server-url", env: "SERVER_URL", default: nil, value: "url",
        "Ingest URL payloads are POSTed to, http:// or https://; user:password@ in it is sent as Basic authorization (required)")
    public static let secret = OptionSpec("secret", env: "SECRET", default: nil, value: "secret",
        "Shared HMAC secret (required unless --secret-file is set; prefer --secret-file to keep it out of ps)")
    public static let secretFile = OptionSpec("secret-file", env: "SECRET_FILE", default: nil, value: "path",
        "File holding the shared secret; one trailing newline is ignored")
    public static let keyID = OptionSpec("key-id", env: "KEY_ID", default: nil, value: "id",
        "Names the secret's key in X-Agent-Key-Id, for receivers with a keyring (the secret file is read again on SIGHUP)")
    public static let interval = OptionSpec("interval", env: "INTERVAL", default: "30", range: 0.1...86_400, value: "seconds",
        "Seconds between payloads (fractions allowed)")
    public static let tailLines = OptionSpec("tail-lines", env: "TAIL_LINES", default: "100", range: 0...100_000, value: "n",
        "Log lines to tail per container on first attach")
    public static let authWindowSeconds = OptionSpec("auth-window-seconds", env: "AUTH_WINDOW_SECONDS", default: "300", range: 1...604_800, value: "seconds",
        "Sliding window for counting failed logins per address, seconds")
    public static let cpuSpikePct = OptionSpec("cpu-spike-pct", env: "CPU_SPIKE_PCT", default: "85.0", range: 0...100, value: "percent",
        "CPU percent at or above which a spike may be raised")
    public static let failedAuthThreshold = OptionSpec("failed-auth-threshold", env: "FAILED_AUTH_THRESHOLD", default: "20", range: 1...2040, value: "n",
        "Failed logins per address within the window that raise BRUTE_FORCE")
    public static let authSlowWindowSeconds = OptionSpec("auth-slow-window-seconds", env: "AUTH_SLOW_WINDOW_SECONDS", default: "86400", range: 60...2_592_000, value: "seconds",
        "Long window for slow brute force (attempts spaced to stay under the short window), seconds")
    public static let authSlowThreshold = OptionSpec("auth-slow-threshold", env: "AUTH_SLOW_THRESHOLD", default: "30", range: 0...2040, value: "n",
        "Failed logins per address within the long window that raise BRUTE_FORCE; 0 turns the long window off")
    public static let userEnumThreshold = OptionSpec("user-enum-threshold", env: "USER_ENUM_THRESHOLD", default: "10", range: 2...32, value: "n",
        "Distinct invalid user names from one address within the window that raise USER_ENUMERATION")
    public static let distributedAddresses = OptionSpec("distributed-addresses", env: "DISTRIBUTED_ADDRESSES", default: "20", range: 2...32, value: "n",
        "Distinct addresses failing one existing account within the window that raise DISTRIBUTED_BRUTE_FORCE")
    public static let authCountProbes = OptionSpec("auth-count-probes", env: "AUTH_COUNT_PROBES", default: "false", value: nil,
        "Count pre-authentication probes (scans, bad banners, no matching algorithms) as failures toward BRUTE_FORCE")
    public static let baselineSamples = OptionSpec("baseline-samples", env: "BASELINE_SAMPLES", default: "12", range: 2...10_000, value: "n",
        "CPU samples in the rolling baseline")
    public static let simulateAttack = OptionSpec("simulate-attack", env: "SIMULATE_ATTACK", default: "false", value: nil,
        "Feed synthetic attacks through the detectors to test a pipeline end to end")
    public static let env = OptionSpec("env", env: "ENV", default: "prod", value: "env",
        "Environment: prod, stage or dev")
    public static let ownerTeam = OptionSpec("owner-team", env: "OWNER_TEAM", default: nil, value: "team",
        "Team that owns this host")
    public static let serverID = OptionSpec("server-id", env: "SERVER_ID", default: "the host name", value: "id",
        "Server identifier")
    public static let maxLogEntries = OptionSpec("max-log-entries", env: "MAX_LOG_ENTRIES", default: "500", range: 1...100_000, value: "n",
        "Most container log lines per payload")
    public static let healthAddr = OptionSpec("health-addr", env: "HEALTH_ADDR", default: "127.0.0.1:8081", value: "host:port",
        "host:port serving GET /healthz and GET /metrics")
    public static let queueDir = OptionSpec("queue-dir", env: "QUEUE_DIR", default: "./queue", value: "dir",
        "Directory for the payload queue and saved positions")
    public static let authSource = OptionSpec("auth-source", env: "AUTH_SOURCE", default: "auto", value: "source",
        "Where failed logins are read: auto (the auth log file if present, else journald), file, journald or none")
    public static let authLog = OptionSpec("auth-log", env: "AUTH_LOG", default: "auto", value: "path",
        "Auth log path; auto tries /var/log/auth.log, then /var/log/secure")
    public static let dockerSocket = OptionSpec("docker-socket", env: "DOCKER_SOCKET", default: "/var/run/docker.sock", value: "path",
        "Docker Engine API unix socket; none turns Docker monitoring off")
    public static let maxLogLineBytes = OptionSpec("max-log-line-bytes", env: "MAX_LOG_LINE_BYTES", default: "4096", range: 64...1_048_576, value: "bytes",
        "Longest container log message kept; longer ones are cut and marked …[truncated]")
    public static let maxDockerEvents = OptionSpec("max-docker-events", env: "MAX_DOCKER_EVENTS", default: "200", range: 1...100_000, value: "n",
        "Most container events per payload; the rest wait for the next payloads (10 times this is kept)")
    public static let maxContainers = OptionSpec("max-containers", env: "MAX_CONTAINERS", default: "1000", range: 1...10_000, value: "n",
        "Most containers whose logs are followed at once (one connection each); the rest are counted in /metrics")
    public static let maxPayloadBytes = OptionSpec("max-payload-bytes", env: "MAX_PAYLOAD_BYTES", default: "1048576", range: 16_384...67_108_864, value: "bytes",
        "Largest payload body sent; past it log lines, then events are cut and extra alerts summarised (counted in /metrics), never metrics. Keep it below the server's body limit")
    public static let shellAlertAll = OptionSpec("shell-alert-all", env: "SHELL_ALERT_ALL", default: "false", value: nil,
        "Raise SHELL_IN_CONTAINER for every shell exec, not only interactive ones (TTY or stdin)")
    public static let http5xxMin = OptionSpec("http-5xx-min", env: "HTTP_5XX_MIN", default: "10", range: 1...1_000_000, value: "n",
        "5xx responses per container per interval needed for HTTP_5XX_SPIKE")
    public static let http5xxRatio = OptionSpec("http-5xx-ratio", env: "HTTP_5XX_RATIO", default: "0.2", range: 0...1, value: "fraction",
        "Share of 5xx among a container's access-log lines per interval needed for HTTP_5XX_SPIKE")
    public static let diskPath = OptionSpec("disk-path", env: "DISK_PATH", default: "/", value: "path",
        "Filesystem whose usage is reported as disk_usage")
    public static let procRoot = OptionSpec("proc-root", env: "PROC_ROOT", default: "/proc", value: "path",
        "procfs mount to read (e.g. /host/proc inside a container)")
    public static let caFile = OptionSpec("ca-file", env: "CA_FILE", default: nil, value: "path",
        "PEM file of extra CA certificates to trust for https:// server URLs")
    public static let sendTimeout = OptionSpec("send-timeout", env: "SEND_TIMEOUT", default: "10", range: 0.1...600, value: "seconds",
        "Seconds one HTTP request may take, connect included")
    public static let maxBufferedPayloads = OptionSpec("max-buffered-payloads", env: "MAX_BUFFERED_PAYLOADS", default: "1000", range: 1...100_000, value: "n",
        "Payloads kept in memory while the server is unreachable; the oldest is dropped past this")
    public static let queueSegmentBytes = OptionSpec("queue-segment-bytes", env: "QUEUE_SEGMENT_BYTES", default: "1048576", range: 4096...1_073_741_824, value: "bytes",
        "Size at which a queue segment file is closed and a new one started")
    public static let queueMaxBytes = OptionSpec("queue-max-bytes", env: "QUEUE_MAX_BYTES", default: "104857600", range: 4096...1_099_511_627_776, value: "bytes",
        "Disk the queue may use; past it the oldest segment is dropped and counted")
    public static let drainBatch = OptionSpec("drain-batch", env: "DRAIN_BATCH", default: "50", range: 1...100_000, value: "n",
        "Queued payloads sent back to back after an outage before --drain-rate paces the rest")
    public static let drainRate = OptionSpec("drain-rate", env: "DRAIN_RATE", default: "20", range: 0.1...10_000, value: "per-second",
        "Most queued payloads sent per second while a backlog drains (a day's backlog at a 30 s interval: about 2.5 minutes)")
    public static let compressMinBytes = OptionSpec("compress-min-bytes", env: "COMPRESS_MIN_BYTES", default: "1024", range: 0...1_073_741_824, value: "bytes",
        "Request bodies of at least this size are sent gzip-compressed (the signature covers the uncompressed body); 0: never")
    public static let logLevel = OptionSpec("log-level", env: "LOG_LEVEL", default: "info", value: "level",
        "trace, debug, info, notice, warning, error or critical")
    public static let config = OptionSpec("config", env: "AGENT_CONFIG", default: nil, value: "file",
        "YAML file of settings: keys are these flags in snake_case (server_url: ...); flags and variables win over it")
    public static let logFormat = OptionSpec("log-format", env: "LOG_FORMAT", default: "text", value: "format",
        "text (one readable line per event) or json (one JSON object per line, for journald and log shippers)")

    public static let all: [OptionSpec] = [
        config, serverURL, secret, secretFile, keyID, interval, tailLines, authWindowSeconds, cpuSpikePct,
        failedAuthThreshold, authSlowWindowSeconds, authSlowThreshold, userEnumThreshold, distributedAddresses, authCountProbes,
        baselineSamples, simulateAttack, env, ownerTeam, serverID, maxLogEntries,
        healthAddr, queueDir, queueSegmentBytes, queueMaxBytes, drainBatch, drainRate, compressMinBytes, authSource, authLog, dockerSocket,
        maxLogLineBytes, maxDockerEvents, maxContainers, maxPayloadBytes, shellAlertAll, http5xxMin, http5xxRatio, diskPath,
        procRoot, caFile, sendTimeout, maxBufferedPayloads, logLevel, logFormat,
    ]
}

/// Options of `monitoring-agent receive` beyond the shared secret ones.
public enum ReceiverOptions {
    public static let listen = OptionSpec("listen", env: "RECEIVER_LISTEN", default: "127.0.0.1:9000", value: "host:port",
        "host:port to accept payloads on (POST / or /ingest)")
    public static let maxSkew = OptionSpec("max-skew", env: "MAX_SKEW", default: "300", range: 1...86_400, value: "seconds",
        "Largest accepted difference between X-Agent-Timestamp and this host's clock, seconds")
    public static let bodyLimit = OptionSpec("body-limit", env: "BODY_LIMIT", default: "4194304", range: 1024...268_435_456, value: "bytes",
        "Largest accepted body in bytes; larger bodies get 413")
    public static let data = OptionSpec("data", env: "RECEIVER_DATA", default: nil, value: "dir",
        "Directory of the receiver's store: verified payloads, deduplicated by payload_id across restarts")
    public static let keyring = OptionSpec("keyring", env: "KEYRING", default: nil, value: "path",
        "File of 'id: secret' lines, every one a current key (beside --secret/--secret-file, or instead); read again on SIGHUP")
    public static let all: [OptionSpec] = [listen, AgentOptions.secret, AgentOptions.secretFile, keyring, maxSkew, bodyLimit, data]
}

/// Options of `monitoring-server` beyond the receiver's.
public enum ServerOptions {
    public static let data = OptionSpec("data", env: "SERVER_DATA", default: "server-data", value: "dir",
        "Directory of the server's SQLite database (monitoring.sqlite), created when missing")
    public static let database = OptionSpec("database", env: "DATABASE_URL", default: nil, value: "url",
        "PostgreSQL instead of SQLite, for fleets and several receivers: postgres://user[:password]@host[:port]/name[?sslmode=disable|prefer|require] (the password may come from PGPASSWORD instead)")
    public static let printPayloads = OptionSpec("print-payloads", env: "PRINT_PAYLOADS", default: "none", value: "format",
        "Also print each newly stored payload on stdout: none, lines (one readable line each) or json (its JSON line)")
    public static let retentionDays = OptionSpec("retention-days", env: "RETENTION_DAYS", default: "30", range: 1...3_650, value: "days",
        "Payloads older than this are deleted with everything stored from them, checked at start and hourly (PostgreSQL: whole days by their timestamp); older ones arriving are not stored")
    public static let dashboardUsers = OptionSpec("dashboard-users", env: "DASHBOARD_USERS", default: nil, value: "path",
        "File of 'name: bcrypt-hash' lines (htpasswd -B, Prometheus's basic_auth_users): the dashboard asks for one of these users (HTTP Basic); read again on SIGHUP. Without it the dashboard is open to whoever reaches --listen")
    public static let tlsCertificate = OptionSpec("tls-cert", env: "TLS_CERT", default: nil, value: "path",
        "PEM certificate chain (leaf first): serve HTTPS on --listen, with --tls-key; both read again on SIGHUP")
    public static let tlsKey = OptionSpec("tls-key", env: "TLS_KEY", default: nil, value: "path",
        "PEM private key of --tls-cert")
    public static let failureLimit = OptionSpec("failure-limit", env: "FAILURE_LIMIT", default: "60", range: 0...1_000_000, value: "count",
        "Requests a client address may fail per minute before its signature verifies (401, broken, oversized or unknown encodings); past it the address gets 429 until the minute ends, before its body is read. 0 turns it off (behind an HTTP proxy every client shares the proxy's address)")
    public static let all: [OptionSpec] = [ReceiverOptions.listen, AgentOptions.secret, AgentOptions.secretFile, ReceiverOptions.keyring,
                                           ReceiverOptions.maxSkew,
                                           ReceiverOptions.bodyLimit, data, database, retentionDays, printPayloads, dashboardUsers,
                                           tlsCertificate, tlsKey, failureLimit, AgentOptions.logLevel, AgentOptions.logFormat]
}
