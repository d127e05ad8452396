import AgentCore
@testable import AgentDetect
import TestSupport
import Testing

/// What a real sshd 9.2 (+ PAM, rsyslog) logged for each failure shape
/// (Tests/Fixtures/auth/sshd-scenarios.log, recorded by scripts/record-sshd-fixtures.sh), and
/// what the intake and detectors make of it.
@Suite struct RecordedScenarioTests {
    /// The lines of each scenario, in order.
    static func scenarios() throws -> [(name: String, lines: [String])] {
        var out: [(name: String, lines: [String])] = []
        for line in try Paths.fixtureText("auth/sshd-scenarios.log").split(separator: "\n").map(String.init) {
            if let r = line.range(of: "recorder: SCENARIO ") {
                out.append((String(line[r.upperBound...]), []))
            } else if !out.isEmpty {
                out[out.count - 1].lines.append(line)
            }
        }
        return out
    }

    /// Failures counted per scenario, all from 127.0.0.1, one intake across the whole log.
    @Test func eachScenarioCountsItsAttemptsOnce() throws {
        let expected: [String: (failures: Int, probes: Int, logins: Int)] = [
            "password-valid-user": (1, 0, 0), "password-invalid-user": (1, 0, 0), "keyboard-interactive": (1, 0, 0),
            "publickey-invalid-user": (1, 0, 0), "publickey-valid-user": (0, 0, 0), "deny-users": (1, 0, 0),
            "max-auth-tries-password": (3, 0, 0), "max-auth-tries-publickey": (1, 0, 0), "user-enumeration": (10, 0, 0),
            "injected-user-name": (1, 0, 0), "login-after-failures": (2, 0, 1), "probe-bad-banner": (0, 1, 0),
        ]
        var intake = AuthIntake()
        let all = try Self.scenarios()
        #expect(Set(all.map(\.name)) == Set(expected.keys))
        for s in all {
            let tallies = intake.take(lines: s.lines)
            #expect(tallies.allSatisfy { $0.source.text == "127.0.0.1" }, "\(s.name): \(tallies.map(\.source.text))")
            let got = (tallies.reduce(0) { $0 + $1.failures }, tallies.reduce(0) { $0 + $1.probes }, tallies.filter(\.accepted).count)
            let want = try #require(expected[s.name])
            #expect(got == want, "\(s.name)")
        }
        #expect(intake.ambiguous == 0)
    }

    /// The whole recording through the standard detectors with thresholds the scenarios reach:
    /// the login after two failures, the ten invalid names, and never the injected 10.9.9.9.
    @Test func detectorsRaiseTheRecordedAttacks() throws {
        var settings = DetectorSettings(failedAuthThreshold: 2, authWindowSeconds: 600, baselineSamples: 5, cpuSpikePct: 90)
        settings.userEnumThreshold = 10
        let set = DetectorSet(Detectors.standard(settings))
        var intake = AuthIntake()
        var findings = Findings()
        for s in try Self.scenarios() {
            set.observe(Observations(auth: intake.take(lines: s.lines)), at: 1_764_525_000)
            findings.add(set.findings(at: 1_764_525_000))
        }
        let alerts = Set(findings.alerts.map(\.wireValue))
        #expect(alerts.contains("BRUTE_FORCE:127.0.0.1"))
        #expect(alerts.contains("LOGIN_AFTER_FAILURES:127.0.0.1"))
        #expect(alerts.contains("USER_ENUMERATION:127.0.0.1"))
        #expect(!alerts.contains { $0.contains("10.9.9.9") })
        let login = try #require(findings.details.first { $0.rule == .loginAfterFailures })
        #expect(login.user == "maok" && login.method == "password" && login.source == "127.0.0.1" && (login.failures ?? 0) >= 2)
        let enumeration = try #require(findings.details.first { $0.rule == .userEnumeration })
        #expect((enumeration.distinct ?? 0) >= 10 && enumeration.samples?.isEmpty == false && enumeration.source == "127.0.0.1")
    }
}

@Suite struct AuthDetectorTests {
    static let t0: Int64 = 1_764_525_000

    static func tally(_ address: String, failures: Int = 0, user: String? = nil, invalid: Bool = false,
                      accepted: Bool = false, probes: Int = 0, service: String? = nil) -> AuthTally {
        var t = AuthTally.failures(address, failures, user: user, invalidUser: invalid)
        t.accepted = accepted
        t.probes = probes
        t.service = service
        if accepted { t.method = .password }
        return t
    }

    @Test func loginAfterFailuresOnlyFromAnAddressAtTheThreshold() {
        var d = BruteForceDetector(threshold: 3, windowSeconds: 300)
        d.observe(Observations(auth: [Self.tally("192.0.2.1", failures: 3), Self.tally("192.0.2.2", failures: 2)]), at: Self.t0)
        d.observe(Observations(auth: [Self.tally("192.0.2.1", user: "deploy", accepted: true),
                                      Self.tally("192.0.2.2", user: "deploy", accepted: true),
                                      Self.tally("192.0.2.3", user: "deploy", accepted: true)]), at: Self.t0 + 1)
        let f = d.findings(at: Self.t0 + 1)
        #expect(f.alerts.filter { $0.rule == .loginAfterFailures }.map(\.wireValue) == ["LOGIN_AFTER_FAILURES:192.0.2.1"])
        #expect(Alert.score(of: [Alert(.loginAfterFailures, subject: "x")]) == 0.9)
        d.endCycle(at: Self.t0 + 1)
        #expect(!d.findings(at: Self.t0 + 2).alerts.contains { $0.rule == .loginAfterFailures }, "raised in one payload")
        // Outside the window the failures no longer make a login suspicious.
        d.observe(Observations(auth: [Self.tally("192.0.2.1", user: "deploy", accepted: true)]), at: Self.t0 + 400)
        #expect(!d.findings(at: Self.t0 + 400).alerts.contains { $0.rule == .loginAfterFailures })
    }

    /// Past the per-cycle cap, logins after failures are dropped and the drop is exported.
    @Test func loginsPastTheCycleCapAreCountedInMetrics() {
        var d = BruteForceDetector(threshold: 1, windowSeconds: 300)
        let n = BruteForceDetector.maxLoginsPerCycle + 44
        let sources = (0..<n).map { "10.9.\($0 >> 8).\($0 & 255)" }
        d.observe(Observations(auth: sources.map { Self.tally($0, failures: 1) }), at: Self.t0)
        d.observe(Observations(auth: sources.map { Self.tally($0, user: "deploy", accepted: true) }), at: Self.t0 + 1)
        #expect(d.findings(at: Self.t0 + 1).alerts.filter { $0.rule == .loginAfterFailures }.count == BruteForceDetector.maxLoginsPerCycle)
        let set = DetectorSet([d])
        #expect(set.counters().first { $0.name == "monitoring_agent_auth_logins_after_failures_dropped_total" }?.value == 44)
    }

    @Test func slowBruteForceIsCaughtByTheLongWindowOnly() {
        var d = BruteForceDetector(threshold: 5, windowSeconds: 60, slowThreshold: 30, slowWindowSeconds: 86_400)
        // One failure every 10 minutes for 6 hours: never 5 in a minute, 36 in a day.
        for i in 0..<36 { d.observe(Observations(auth: [Self.tally("198.51.100.9", failures: 1)]), at: Self.t0 + Int64(i * 600)) }
        let end = Self.t0 + 35 * 600
        let f = d.findings(at: end)
        #expect(f.alerts.map(\.wireValue) == ["BRUTE_FORCE:198.51.100.9"])
        #expect(f.details.first?.windowSeconds == 86_400 && (f.details.first?.failures ?? 0) >= 30)
        var off = BruteForceDetector(threshold: 5, windowSeconds: 60, slowThreshold: 0)
        for i in 0..<36 { off.observe(Observations(auth: [Self.tally("198.51.100.9", failures: 1)]), at: Self.t0 + Int64(i * 600)) }
        #expect(off.findings(at: end).alerts.isEmpty, "0 turns the long window off")
    }

    @Test func probesCountOnlyWhenAsked() {
        var plain = BruteForceDetector(threshold: 3, windowSeconds: 300)
        var counting = BruteForceDetector(threshold: 3, windowSeconds: 300, countProbes: true)
        let batch = Observations(auth: [Self.tally("203.0.113.5", failures: 1), Self.tally("203.0.113.5", probes: 1),
                                        Self.tally("203.0.113.5", probes: 1), Self.tally("203.0.113.6", probes: 5)])
        plain.observe(batch, at: Self.t0)
        counting.observe(batch, at: Self.t0)
        #expect(plain.findings(at: Self.t0).alerts.isEmpty)
        #expect(plain.tracked == 1, "a probe alone does not take a slot")
        let f = counting.findings(at: Self.t0)
        #expect(f.alerts.map(\.wireValue) == ["BRUTE_FORCE:203.0.113.6", "BRUTE_FORCE:203.0.113.5"], "worst first")
        #expect(f.details.last?.probes == 2 && f.details.first?.probes == 5)
    }

    @Test func detailNamesTheServicesSeen() {
        var d = BruteForceDetector(threshold: 3, windowSeconds: 300)
        d.observe(Observations(auth: [Self.tally("192.0.2.7", failures: 1), Self.tally("192.0.2.7", failures: 1, service: "vsftpd"),
                                      Self.tally("192.0.2.7", failures: 1, service: "dovecot")]), at: Self.t0)
        let detail = d.findings(at: Self.t0).details.first
        #expect(detail?.services == ["sshd", "vsftpd", "dovecot"] && detail?.failures == 3 && detail?.source == "192.0.2.7")
    }

    @Test func userEnumerationCountsDistinctInvalidNames() {
        var d = UserEnumerationDetector(threshold: 5, windowSeconds: 300)
        let names = ["admin", "oracle", "admin", "test", "guest", "admin"]
        d.observe(Observations(auth: names.map { Self.tally("192.0.2.9", failures: 1, user: $0, invalid: true) }), at: Self.t0)
        #expect(d.findings(at: Self.t0).alerts.isEmpty, "4 distinct names")
        d.observe(Observations(auth: [Self.tally("192.0.2.9", failures: 1, user: "root", invalid: false)]), at: Self.t0)
        #expect(d.findings(at: Self.t0).alerts.isEmpty, "an existing account is not an enumerated name")
        d.observe(Observations(auth: [Self.tally("192.0.2.9", failures: 1, user: "pi", invalid: true)]), at: Self.t0 + 10)
        let f = d.findings(at: Self.t0 + 10)
        #expect(f.alerts.map(\.wireValue) == ["USER_ENUMERATION:192.0.2.9"])
        #expect(f.details.first?.distinct == 5 && f.details.first?.samples == ["pi"], "names from the one that reached the threshold on")
        #expect(d.findings(at: Self.t0 + 400).alerts.isEmpty, "out of the window")
        d.endCycle(at: Self.t0 + 400)
        #expect(d.tracked == 0)
    }

    @Test func distributedBruteForceNeedsDistinctSourcesOnAnExistingAccount() {
        var d = DistributedBruteForceDetector(threshold: 20, windowSeconds: 300)
        let spread = (0..<19).map { Self.tally("203.0.113.\($0)", failures: 1, user: "deploy") }
        d.observe(Observations(auth: spread + spread), at: Self.t0)
        d.observe(Observations(auth: (0..<40).map { Self.tally("198.51.100.\($0)", failures: 1, user: "admin", invalid: true) }), at: Self.t0)
        #expect(d.findings(at: Self.t0).alerts.isEmpty, "19 sources; invalid names are not accounts")
        d.observe(Observations(auth: [Self.tally("203.0.113.200", failures: 1, user: "deploy")]), at: Self.t0 + 5)
        let f = d.findings(at: Self.t0 + 5)
        #expect(f.alerts.map(\.wireValue) == ["DISTRIBUTED_BRUTE_FORCE:deploy"])
        #expect(f.details.first?.distinct == 20 && f.details.first?.user == "deploy" && f.details.first?.samples == ["203.0.113.200"])
        #expect(Alert.score(of: f.alerts) == 0.5)
    }

    /// Samples leave with their key: 5,000 keys each reaching the limit (so each takes a sample)
    /// through a table of 100 keep at most 100 keys' samples, the keys still in the table.
    @Test func evictedKeysTakeTheirSamplesWithThem() {
        var w = DistinctWindow<AddressKey>(limit: 2, windowSeconds: 300, maxKeys: 100)
        for n in 0..<5_000 {
            let key = AddressKey.ipv4(UInt32(0x0A00_0000 + n))
            for item in 0..<2 { w.record(key, item: UInt64(item + 1) << 32, sample: "u\(item)", at: Self.t0) }
        }
        #expect(w.count == 100 && w.evicted == 4_900)
        #expect(w.samples.count == 100 && w.samples.keys.allSatisfy { w.table[$0] != nil })
    }

    /// 200,000 attacking addresses and user names against caps of 1,000: every table stays at its
    /// cap (the cost per line does not depend on the flood's size; the benchmark runs millions).
    @Test func memoryStaysBoundedUnderFloodsOfAddressesAndNames() {
        var enumeration = UserEnumerationDetector(threshold: 10, windowSeconds: 300, maxSources: 1000)
        var distributed = DistributedBruteForceDetector(threshold: 20, windowSeconds: 300, maxAccounts: 1000)
        var brute = BruteForceDetector(threshold: 20, windowSeconds: 300, slowThreshold: 30, maxTracked: 1000)
        for chunk in 0..<20 {
            let batch = Observations(auth: (0..<10_000).map { i in
                let n = chunk * 10_000 + i
                return Self.tally("10.\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)", failures: 1, user: "u\(n)", invalid: n % 2 == 0)
            })
            enumeration.observe(batch, at: Self.t0)
            distributed.observe(batch, at: Self.t0)
            brute.observe(batch, at: Self.t0)
        }
        #expect(enumeration.tracked <= 1000 && enumeration.evicted > 0)
        #expect(distributed.tracked <= 1000 && distributed.evicted > 0)
        #expect(brute.tracked <= 1000)
        // What they forgot is in /metrics (the detector set's counters).
        let counters = DetectorSet([brute, enumeration, distributed]).counters()
        func value(_ name: String) -> Int? { counters.first { $0.name == name }?.value }
        #expect(value("monitoring_agent_auth_sources_evicted_total") == brute.evicted && brute.evicted == 199_000)
        #expect(value("monitoring_agent_user_enumeration_sources_evicted_total") == enumeration.evicted)
        #expect(value("monitoring_agent_distributed_accounts_evicted_total") == distributed.evicted)
    }
}
