@testable import AgentCore
import Testing

@Suite struct ConfigResolverTests {
    struct NoFile: Error, CustomStringConvertible { var description: String { "No such file or directory" } }

    func resolver(_ flags: [String: String] = [:], env: [String: String] = [:], files: [String: String] = [:],
                  binary: [String: [UInt8]] = [:]) -> ConfigResolver {
        ConfigResolver(flags: flags, environment: env, hostname: "host-a") { path in
            if let b = binary[path] { return b }
            guard let f = files[path] else { throw NoFile() }
            return Array(f.utf8)
        }
    }

    let base = ["server-url": "http://127.0.0.1:9000/ingest", "secret": "topsecret"]

    @Test func defaultsMatchTheSpec() throws {
        let c = try resolver(base).resolve()
        #expect(c.interval == 30 && c.tailLines == 100 && c.authWindowSeconds == 300 && c.cpuSpikePct == 85)
        #expect(c.failedAuthThreshold == 20 && c.baselineSamples == 12 && c.simulateAttack == false && c.maxLogEntries == 500)
        #expect(c.healthHost == "127.0.0.1" && c.healthPort == 8081 && c.queueDir == "./queue" && c.authLog == nil)
        #expect(c.dockerSocket == "/var/run/docker.sock" && c.diskPath == "/" && c.serverID == "host-a" && c.env == .prod)
    }

    @Test func flagWinsOverEnvironmentWinsOverDefault() throws {
        let env = ["INTERVAL": "15", "TAIL_LINES": "7", "SERVER_ID": "from-env", "SIMULATE_ATTACK": "true", "OWNER_TEAM": "sec"]
        let c = try resolver(base.merging(["interval": "5"]) { $1 }, env: env).resolve()
        #expect(c.interval == 5 && c.tailLines == 7 && c.serverID == "from-env" && c.simulateAttack && c.ownerTeam == "sec")
    }

    @Test func everyOptionHasAnEnvironmentVariable() throws {
        let env = ["SERVER_URL": "https://ingest.example/x", "SECRET": "s", "INTERVAL": "2", "TAIL_LINES": "1",
                   "AUTH_WINDOW_SECONDS": "60", "CPU_SPIKE_PCT": "70", "FAILED_AUTH_THRESHOLD": "3", "BASELINE_SAMPLES": "4",
                   "SIMULATE_ATTACK": "1", "ENV": "dev", "OWNER_TEAM": "t", "SERVER_ID": "i", "MAX_LOG_ENTRIES": "9",
                   "HEALTH_ADDR": "0.0.0.0:9100", "QUEUE_DIR": "/q", "AUTH_LOG": "/var/log/secure", "DOCKER_SOCKET": "/d.sock",
                   "DISK_PATH": "/data", "PROC_ROOT": "/host/proc", "SEND_TIMEOUT": "3", "MAX_BUFFERED_PAYLOADS": "7", "LOG_LEVEL": "debug",
                   "QUEUE_SEGMENT_BYTES": "65536", "QUEUE_MAX_BYTES": "1048576", "DRAIN_BATCH": "5", "CA_FILE": "/ca.pem",
                   "AUTH_SOURCE": "journald", "MAX_LOG_LINE_BYTES": "1000", "MAX_DOCKER_EVENTS": "12", "MAX_PAYLOAD_BYTES": "65536", "MAX_CONTAINERS": "20", "SHELL_ALERT_ALL": "yes",
                   "HTTP_5XX_MIN": "3", "HTTP_5XX_RATIO": "0.5", "LOG_FORMAT": "json",
                   "AUTH_SLOW_WINDOW_SECONDS": "3600", "AUTH_SLOW_THRESHOLD": "0", "USER_ENUM_THRESHOLD": "5",
                   "DISTRIBUTED_ADDRESSES": "8", "AUTH_COUNT_PROBES": "true", "DRAIN_RATE": "2.5", "COMPRESS_MIN_BYTES": "0", "KEY_ID": "fleet-2026.12",
                   "AGENT_CONFIG": "/read/by/the/command/not/the/resolver.yaml"]
        let c = try resolver(env: env, files: ["/ca.pem": "pem"]).resolve()
        #expect(c.serverURL == "https://ingest.example/x" && c.interval == 2 && c.tailLines == 1 && c.authWindowSeconds == 60)
        #expect(c.cpuSpikePct == 70 && c.failedAuthThreshold == 3 && c.baselineSamples == 4 && c.simulateAttack && c.env == .dev)
        #expect(c.ownerTeam == "t" && c.serverID == "i" && c.maxLogEntries == 9 && c.healthHost == "0.0.0.0" && c.healthPort == 9100)
        #expect(c.queueDir == "/q" && c.authLog == "/var/log/secure" && c.dockerSocket == "/d.sock" && c.diskPath == "/data")
        #expect(c.procRoot == "/host/proc" && c.sendTimeout == 3 && c.maxBufferedPayloads == 7 && c.logLevel == .debug)
        #expect(c.queueSegmentBytes == 65536 && c.queueMaxBytes == 1_048_576 && c.drainBatch == 5 && c.caFile == "/ca.pem" && c.authSource == .journald)
        #expect(c.maxLogLineBytes == 1000 && c.maxDockerEvents == 12 && c.shellAlertAll && c.http5xxMin == 3 && c.http5xxRatio == 0.5)
        #expect(c.logFormat == .json && c.maxPayloadBytes == 65536 && c.maxContainers == 20)
        #expect(c.authSlowWindowSeconds == 3600 && c.authSlowThreshold == 0 && c.userEnumThreshold == 5)
        #expect(c.distributedAddresses == 8 && c.authCountProbes && c.drainRate == 2.5 && c.compressMinBytes == 0)
        #expect(c.keyID == "fleet-2026.12")
        #expect(env.count == AgentOptions.all.count - 1, "every option but --secret-file is set above")
        // Every spec in the table names a distinct variable.
        #expect(Set(AgentOptions.all.map(\.env)).count == AgentOptions.all.count)
    }

    @Test(arguments: [
        (["interval": "abc"], "interval"), (["interval": "0"], "interval"), (["interval": "-5"], "interval"),
        (["interval": "inf"], "interval"), (["cpu-spike-pct": "101"], "cpu-spike-pct"), (["cpu-spike-pct": "-1"], "cpu-spike-pct"),
        (["server-url": "ftp://x/y"], "server-url"), (["server-url": "localhost:9000"], "server-url"), (["server-url": "http://"], "server-url"),
        (["env": "production"], "env"), (["tail-lines": "-1"], "tail-lines"), (["baseline-samples": "1"], "baseline-samples"),
        (["failed-auth-threshold": "0"], "failed-auth-threshold"), (["health-addr": "8081"], "health-addr"),
        (["health-addr": "127.0.0.1:70000"], "health-addr"), (["simulate-attack": "maybe"], "simulate-attack"),
        (["log-level": "loud"], "log-level"), (["max-log-entries": "x"], "max-log-entries"),
        (["queue-max-bytes": "100"], "queue-max-bytes"), (["drain-batch": "0"], "drain-batch"),
        (["auth-source": "syslog"], "auth-source"), (["max-log-line-bytes": "10"], "max-log-line-bytes"),
        (["max-docker-events": "0"], "max-docker-events"), (["shell-alert-all": "sometimes"], "shell-alert-all"),
        (["http-5xx-min": "0"], "http-5xx-min"), (["failed-auth-threshold": "5000"], "failed-auth-threshold"),
        (["log-format": "xml"], "log-format"), (["http-5xx-ratio": "1.5"], "http-5xx-ratio"),
        (["key-id": "has space"], "key-id"), (["key-id": String(repeating: "k", count: 65)], "key-id"),
    ] as [([String: String], String)])
    func invalidValuesNameTheFlag(_ bad: [String: String], _ flag: String) {
        #expect {
            try resolver(base.merging(bad) { $1 }).resolve()
        } throws: { e in
            guard let e = e as? ConfigError else { return false }
            return e.flag == flag && e.description.hasPrefix("--\(flag): ") && !e.description.contains("\n")
        }
    }

    @Test func environmentOriginIsNamed() {
        #expect {
            try resolver(base, env: ["INTERVAL": "soon"]).resolve()
        } throws: { e in "\(e)".contains("(from INTERVAL)") && "\(e)".contains("--interval") }
    }

    @Test func missingServerURLAndSecret() {
        #expect { try resolver(["secret": "s"]).resolve() } throws: { ($0 as? ConfigError)?.flag == "server-url" }
        #expect { try resolver(["server-url": "http://a"]).resolve() } throws: { ($0 as? ConfigError)?.flag == "secret" }
    }

    @Test func secretFile() throws {
        let flags = ["server-url": "http://a", "secret-file": "/run/secret"]
        let c = try resolver(flags, files: ["/run/secret": "from-file\n"]).resolve()
        #expect(c.secret.withUnsafeValue { $0 } == "from-file")
        let viaEnv = try resolver(["server-url": "http://a"], env: ["SECRET_FILE": "/run/secret"], files: ["/run/secret": "x\r\n"]).resolve()
        #expect(viaEnv.secret.withUnsafeValue { $0 } == "x")
        #expect { try resolver(flags).resolve() } throws: { e in
            (e as? ConfigError)?.flag == "secret-file" && "\(e)".contains("No such file")
        }
        #expect { try resolver(flags, files: ["/run/secret": "\n"]).resolve() } throws: { ($0 as? ConfigError)?.flag == "secret-file" }
        #expect { try resolver(flags.merging(["secret": "x"]) { $1 }, files: ["/run/secret": "y"]).resolve() } throws: {
            ($0 as? ConfigError)?.flag == "secret-file"
        }
    }

    @Test func errorsNeverContainTheSecret() {
        let secret = "Sup3r-S3cret-Value"
        let cases: [[String: String]] = [
            ["secret": secret, "server-url": "http://user:\(secret)@"],
            ["secret": secret, "server-url": "ftp://user:\(secret)@host/"],
            ["secret": secret, "server-url": "http://a", "interval": "x"],
        ]
        for flags in cases {
            do { _ = try resolver(flags).resolve(); Issue.record("accepted \(flags.keys)") } catch {
                #expect(!"\(error)".contains(secret))
            }
        }
    }

    @Test func redactsURLCredentials() {
        #expect(URLText.redactingCredentials("https://u:p@host:8443/x?y=1") == "https://***@host:8443/x?y=1")
        #expect(URLText.redactingCredentials("http://host/a@b") == "http://host/a@b")
        #expect(URLText.schemeAndHost("http://[::1]:9000/x")?.host == "::1")
        #expect(URLText.schemeAndHost("http://h:99999/") == nil)
        #expect(URLText.schemeAndHost("http://[::1]:99999/") == nil, "a bracketed address's port is checked too")
    }

    /// The byte-level "://" search that replaced `firstRange(of:)`: the first "://", not the first ":".
    @Test func findsTheSchemeSeparator() {
        #expect(URLText.schemeAndHost("HTTPS://Host.example:8443/p")! == ("https", "Host.example"))
        #expect(URLText.schemeAndHost("http:/host/") == nil)
        #expect(URLText.schemeAndHost("http:") == nil)
        #expect(URLText.schemeAndHost("host:8080") == nil)
        #expect(URLText.schemeAndHost("a:b://c/")! == ("a:b", "c"))
        #expect(URLText.schemeAndHost("ünï://høst/")! == ("ünï", "høst"))
        #expect(URLText.redactingCredentials("x:y://u:p@h/") == "x:y://***@h/")
        #expect(URLText.redactingCredentials("no scheme u:p@h") == "no scheme u:p@h")
    }

    /// Every numeric option is bounded: values that would overflow the arithmetic they feed (or
    /// flood the server) exit 64 naming the flag instead of trapping later.
    @Test(arguments: [
        ("INTERVAL", "1e300"), ("INTERVAL", "1e-9"), ("INTERVAL", "0"), ("SEND_TIMEOUT", "1e300"),
        ("AUTH_WINDOW_SECONDS", "9223372036854775807"), ("MAX_LOG_LINE_BYTES", "9223372036854775807"),
        ("MAX_LOG_ENTRIES", "9223372036854775807"), ("MAX_DOCKER_EVENTS", "9223372036854775807"),
        ("QUEUE_MAX_BYTES", "9223372036854775807"), ("TAIL_LINES", "-1"), ("HTTP_5XX_RATIO", "1.5"),
        ("CPU_SPIKE_PCT", "nan"), ("FAILED_AUTH_THRESHOLD", "2041"), ("BASELINE_SAMPLES", "1"),
        ("DRAIN_RATE", "0"), ("DRAIN_RATE", "1e300"), ("DRAIN_RATE", "nan"), ("DRAIN_RATE", "-inf"),
        ("COMPRESS_MIN_BYTES", "-1"), ("COMPRESS_MIN_BYTES", "9223372036854775807"),
    ])
    func outOfRangeNumbersAreRefused(_ variable: String, _ value: String) throws {
        let spec = try #require(AgentOptions.all.first { $0.env == variable })
        #expect { try resolver(base, env: [variable: value]).resolve() } throws: { e in
            (e as? ConfigError)?.flag == spec.flag && "\(e)".contains(variable)
        }
        #expect(spec.helpText.contains(spec.rangeText!), "--help shows the range")
    }

    @Test func everyNumericOptionHasARange() throws {
        let numeric = AgentOptions.all.filter { Double($0.defaultValue ?? "x") != nil }
        #expect(numeric.count >= 15)
        for spec in numeric { #expect(spec.range != nil, "--\(spec.flag)") }
        #expect(try resolver(base, env: ["INTERVAL": "0.1", "SEND_TIMEOUT": "600"]).resolve().interval == 0.1)
    }

    @Test(arguments: ["http://a/\r\nX-Evil: 1", "http://a/ b", "http://a/\u{7f}", "http://a\t/"])
    func serverURLWithControlCharactersIsRefused(_ url: String) {
        #expect { try resolver(["server-url": url, "secret": "s"]).resolve() } throws: { e in
            (e as? ConfigError)?.flag == "server-url" && !"\(e)".contains("\r") && !"\(e)".contains("\n")
        }
    }

    /// A secret file is a key of bytes: two binary secrets that are not UTF-8 stay two keys.
    @Test func binarySecretFilesAreDistinctKeys() throws {
        let flags = ["server-url": "http://a", "secret-file": "/k"]
        let a = try resolver(flags, binary: ["/k": [0xff, 0xfe, 0x01, 0x0a]]).resolve().secret
        let b = try resolver(flags, binary: ["/k": [0xfe, 0xff, 0x01]]).resolve().secret
        let body = Array("{}".utf8)
        let sa = PayloadSigner(secret: a).headerValue(timestamp: 1, body: body)
        let sb = PayloadSigner(secret: b).headerValue(timestamp: 1, body: body)
        #expect(sa != sb)
        #expect(sa == PayloadSigner(secret: Secret(bytes: [0xff, 0xfe, 0x01])).headerValue(timestamp: 1, body: body),
                "the file's bytes less one trailing newline")
    }
}
