import AgentCore
@testable import AgentDetect
import TestSupport
import Testing

@Suite struct BruteForceDetectorTests {
    @Test func thresholdWithinTheWindow() {
        var d = BruteForceDetector(threshold: 5, windowSeconds: 80)
        for t in 0..<4 { d.record(address: "192.0.2.1", at: 1000 + Int64(t)) }
        let below = d.offenders(at: 1004)
        d.record(address: "192.0.2.1", at: 1005)
        d.record(address: "192.0.2.2", at: 1005)
        let at = d.offenders(at: 1005), later = d.offenders(at: 1060), gone = d.offenders(at: 1100)
        d.forgetQuiet(at: 1100)
        #expect(below.isEmpty)
        #expect(at == ["192.0.2.1"])
        #expect(later == ["192.0.2.1"], "still within 80 s")
        #expect(gone.isEmpty, "the failures left the window")
        #expect(d.tracked == 0, "and the address is forgotten")
    }

    @Test func slidingNotTumbling() {
        // 3 failures late in one window and 3 early in the next: 6 within 80 s.
        var d = BruteForceDetector(threshold: 6, windowSeconds: 80)
        for t in [70, 72, 75, 82, 85, 88] { d.record(address: "a", at: Int64(1_000_000 + t)) }
        let o = d.offenders(at: 1_000_088)
        #expect(o == ["a"])
    }

    @Test func memoryIsBoundedUnderAFloodOfAddresses() {
        var d = BruteForceDetector(threshold: 3, windowSeconds: 300, maxTracked: 1000)
        for i in 0..<100_000 { d.record(address: "10.\(i >> 16).\((i >> 8) & 255).\(i & 255)", at: 5000) }
        #expect(d.tracked <= 1000 && d.evicted >= 99_000)
        for _ in 0..<3 { d.record(address: "198.51.100.1", at: 5001) }
        let o = d.offenders(at: 5001)
        #expect(o == ["198.51.100.1"], "a real attacker is still caught")
    }

    @Test func windowTableSurvivesGrowthEvictionAndCleanup() {
        var d = BruteForceDetector(threshold: 2, windowSeconds: 80, maxTracked: 5_000)
        for i in 0..<4_000 { d.record(address: "10.0.\(i >> 8).\(i & 255)", at: 100) }
        for i in 0..<500 { d.record(address: "2001:db8::\(String(i, radix: 16))", at: 100) }
        d.record(address: "10.0.0.7", at: 101)
        d.record(address: "2001:db8::7", at: 101)
        d.record(address: "host.example", at: 101, count: 2)
        #expect(d.tracked == 4_501)
        #expect(d.offenders(at: 102) == ["10.0.0.7", "2001:db8::7", "host.example"])
        #expect(d.offenders(at: 100 + 90).isEmpty && d.tracked == 4_501, "asking changes nothing")
        d.endCycle(at: 100 + 90)
        #expect(d.tracked == 0, "all left the window and are forgotten when the cycle ends")
        for i in 0..<6_000 { d.record(address: "10.1.\(i >> 8).\(i & 255)", at: 1_000 + Int64(i / 1000)) }
        #expect(d.tracked <= 5_000 && d.evicted >= 1_000)
    }

    /// A real attacker survives a flood of one-failure addresses ten times the cap.
    @Test func aFloodOfSingleFailuresNeverEvictsARealAttacker() {
        var d = BruteForceDetector(threshold: 5, windowSeconds: 300, maxTracked: 1_000)
        for i in 0..<500 { d.record(address: "10.0.\(i >> 8).\(i & 255)", at: 5_000) }
        d.record(address: "198.51.100.9", at: 5_000, count: 6)
        for i in 0..<10_000 { d.record(address: "10.1.\(i >> 8 & 255).\(i & 255)", at: 5_000) }
        #expect(d.offenders(at: 5_001) == ["198.51.100.9"] && d.tracked == 1_000)
    }

    /// Every key kind (IPv4, IPv6, host names) under one cap: a flood of names is bounded like
    /// a flood of addresses.
    @Test func hostNameFloodIsCappedLikeAddresses() {
        var d = BruteForceDetector(threshold: 3, windowSeconds: 300, maxTracked: 1_000)
        for i in 0..<5_000 { d.record(address: "h\(i).attacker.example", at: 5_000) }
        #expect(d.namesHeld == 1_000, "a name's text leaves with its source")
        for i in 0..<5_000 { d.record(address: "2001:db8::\(String(i, radix: 16))", at: 5_000) }
        #expect(d.tracked == 1_000 && d.evicted == 9_000)
        #expect(d.namesHeld == d.nameSourcesTracked && d.namesHeld < 1_000, "names held: \(d.namesHeld)")
        for _ in 0..<3 { d.record(address: "198.51.100.1", at: 5_001) }
        #expect(d.offenders(at: 5_001) == ["198.51.100.1"])
    }

    /// A flood of offenders lists the worst up to the cap, in order, and counts the rest: the
    /// findings of 5,000 offenders are not built whole to be cut later.
    @Test func aFloodListsTheWorstUpToItsCapAndCountsTheRest() {
        var d = BruteForceDetector(threshold: 5, windowSeconds: 300, maxAlerts: 100)
        var expected: [(failures: Int, source: String)] = []
        for i in 0..<5_000 {
            let source = "10.2.\(i >> 8).\(i & 255)", failures = 5 + (i * 7_919) % 200
            d.record(address: source, at: 5_000, count: failures)
            expected.append((failures, source))
        }
        expected.sort { ($1.failures, $0.source) < ($0.failures, $1.source) }
        let f = d.findings(at: 5_000)
        #expect(f.alerts.map(\.subject) == expected.prefix(100).map(\.source))
        #expect(f.details.map(\.failures) == expected.prefix(100).map(\.failures))
        #expect(f.omitted == [.bruteForce: 4_900])
        #expect(Findings(alerts: f.alerts, omitted: f.omitted).raisedCount == 5_000)
        let all = BruteForceDetector(threshold: 5, windowSeconds: 300)
        #expect(all.findings(at: 5_000).omitted.isEmpty, "no cap, nothing omitted")
    }
}

@Suite struct CPUSpikeDetectorTests {
    @Test func noAlertUntilTheBaselineIsFull() {
        var d = CPUSpikeDetector(baselineSamples: 4, spikePercent: 85)
        var alerts = [Bool]()
        for u in [99.0, 99, 99] { alerts.append(d.sample(u)) }
        #expect(alerts == [false, false, false])
    }

    @Test func spikeNeedsBothTheAbsoluteThresholdAndTheZScore() {
        var d = CPUSpikeDetector(baselineSamples: 5, spikePercent: 85, zThreshold: 3)
        var early = [Bool]()
        for u in [10.0, 12, 11, 9, 13] { early.append(d.sample(u)) }
        let spike = d.sample(95)
        #expect(!early.contains(true))
        #expect(spike, "far above a calm baseline")
        var busy = CPUSpikeDetector(baselineSamples: 5, spikePercent: 85, zThreshold: 3)
        for u in [80.0, 95, 70, 90, 85] { _ = busy.sample(u) }
        let busySpike = busy.sample(96)
        #expect(!busySpike, "high, but normal for this host (z < 3)")
        var calm = CPUSpikeDetector(baselineSamples: 5, spikePercent: 85, zThreshold: 3)
        for u in [1.0, 1.2, 0.9, 1.1, 1.0] { _ = calm.sample(u) }
        let calmSpike = calm.sample(40)
        #expect(!calmSpike, "unusual but below --cpu-spike-pct")
    }

    @Test func sustainedSpikeKeepsAlertingBecauseSpikesStayOutOfTheBaseline() {
        var d = CPUSpikeDetector(baselineSamples: 4, spikePercent: 85)
        for u in [5.0, 6, 5, 7] { _ = d.sample(u) }
        var sustained = [Bool]()
        for _ in 0..<20 { sustained.append(d.sample(99)) }
        let calmAgain = d.sample(6)
        #expect(!sustained.contains(false))
        #expect(d.baseline.mean < 10)
        #expect(!calmAgain)
    }

    @Test func flatBaseline() {
        var d = CPUSpikeDetector(baselineSamples: 3, spikePercent: 50)
        for _ in 0..<3 { _ = d.sample(20) }
        let spike = d.sample(60)
        #expect(d.zScore(60) == .infinity && spike)
        #expect(d.zScore(20) == 0)
    }
}

@Suite struct HTTPErrorSpikeDetectorTests {
    @Test func spikeNeedsCountAndRatioPerContainer() {
        var d = HTTPErrorSpikeDetector(minCount: 10, minRatio: 0.2)
        var web = HTTPStatusCounts(), api = HTTPStatusCounts(), busy = HTTPStatusCounts()
        for _ in 0..<10 { web.add(502) }
        for _ in 0..<40 { web.add(200) } // 10/50 = 0.2
        for _ in 0..<9 { api.add(500) } // below the count
        for _ in 0..<10 { busy.add(503) }
        for _ in 0..<41 { busy.add(200) } // 10/51 < 0.2
        d.observe(Observations(httpStatuses: ["web": web, "api": api, "busy": busy]), at: 0)
        #expect(d.spikes == [.init(container: "web", errors: 10, total: 50)])
        let f = d.findings(at: 0)
        #expect(f == d.findings(at: 0), "asking changes nothing")
        #expect(f.alerts == [Alert(.http5xxSpike)] && f.details.map(\.container) == ["web"] && f.details.first?.errors == 10)
        d.endCycle(at: 0)
        #expect(d.spikes.isEmpty, "counts restart every interval")
    }
}

@Suite struct ShellInContainerDetectorTests {
    typealias E = ExecProcess
    static func exec(_ argv: [String], tty: Bool = false, stdin: Bool = false) -> E {
        E(entrypoint: argv[0], arguments: Array(argv.dropFirst()), tty: tty, stdin: stdin, user: "")
    }

    @Test func shells() {
        for argv in [["sh"], ["/bin/bash", "-l"], ["ash"], ["/usr/bin/dash"], ["zsh"], ["ksh"], ["csh"], ["tcsh"], ["fish"],
                     ["busybox", "sh"], ["/bin/busybox", "ash"]] {
            #expect(ShellInContainerDetector.isShell(Self.exec(argv)), "\(argv)")
        }
        for argv in [["ls"], ["/usr/bin/python3"], ["busybox", "ls"], ["shellcheck"], ["bashful"]] {
            #expect(!ShellInContainerDetector.isShell(Self.exec(argv)), "\(argv)")
        }
    }

    @Test func interactiveOnlyByDefault() {
        let rule = ShellInContainerDetector(alertAll: false)
        #expect(rule.alerts(Self.exec(["sh"], tty: true, stdin: true), healthcheck: nil))
        #expect(rule.alerts(Self.exec(["bash"], stdin: true), healthcheck: nil))
        #expect(!rule.alerts(Self.exec(["sh", "-c", "true"]), healthcheck: nil))
        #expect(!rule.alerts(Self.exec(["ls"], tty: true, stdin: true), healthcheck: nil))
        #expect(ShellInContainerDetector(alertAll: true).alerts(Self.exec(["sh", "-c", "true"]), healthcheck: nil))
    }

    @Test func healthchecksNeverAlert() {
        let all = ShellInContainerDetector(alertAll: true)
        #expect(!all.alerts(Self.exec(["/bin/sh", "-c", "curl -f http://localhost/"]), healthcheck: ["CMD-SHELL", "curl -f http://localhost/"]))
        #expect(!all.alerts(Self.exec(["sh", "-c", "pg_isready"]), healthcheck: ["CMD", "sh", "-c", "pg_isready"]))
        #expect(all.alerts(Self.exec(["/bin/sh", "-c", "id"]), healthcheck: ["CMD-SHELL", "curl -f http://localhost/"]))
        #expect(ExecProcess.healthcheckCommandLine(["NONE"]) == nil)
    }

    /// Details carry the masked command; the alert stands once per cycle; asking changes nothing.
    @Test func detailsAreMaskedAndEndWithTheCycle() {
        var d = ShellInContainerDetector(alertAll: false)
        let bash = ExecProcess(entrypoint: "bash", arguments: ["-c", "export PASSWORD=hunter2; sh"], tty: true, stdin: true, user: "")
        d.observe(Observations(execs: [ContainerExec(container: "db", image: "pg", process: bash, healthcheck: nil),
                                       ContainerExec(container: "web", image: "nginx", process: Self.exec(["sh"], tty: true), healthcheck: nil),
                                       ContainerExec(container: "web", image: "nginx", process: Self.exec(["ls"], tty: true), healthcheck: nil)]), at: 0)
        let f = d.findings(at: 0)
        #expect(f.alerts == [Alert(.shellInContainer)] && f.details.map(\.container) == ["db", "web"])
        #expect(f.details.first?.command?.contains("hunter2") == false && f.details.first?.user == "root")
        #expect(d.findings(at: 0) == f)
        d.endCycle(at: 0)
        #expect(d.findings(at: 0) == Findings())
    }
}


@Suite struct FindingsTests {
    /// Merging keeps each alert once, in first-seen order, and every detail.
    @Test func addKeepsEachAlertOnceAndEveryDetail() {
        let shell = AlertDetail(rule: .shellInContainer, container: "db", image: "pg", command: "sh", user: "root")
        var f = Findings(alerts: [Alert(.cpuSpike), Alert(.bruteForce, subject: "192.0.2.1")])
        f.add(Findings(alerts: [Alert(.bruteForce, subject: "192.0.2.1"), Alert(.shellInContainer), Alert(.cpuSpike)],
                       details: [shell]))
        f.add(Findings(details: [shell]))
        #expect(f.alerts == [Alert(.cpuSpike), Alert(.bruteForce, subject: "192.0.2.1"), Alert(.shellInContainer)])
        #expect(f.details == [shell, shell])
    }


    /// Past the cap, each rule keeps its first alerts and details (detectors list the worst first)
    /// and counts the rest; other rules are untouched.
    @Test func cappedKeepsTheFirstOfEachRuleAndCountsTheRest() {
        let brute = (0..<10).map { Alert(.bruteForce, subject: "192.0.2.\($0)") }
        let details = brute.map { AlertDetail(auth: .bruteForce, source: $0.subject) }
        let f = Findings(alerts: [Alert(.cpuSpike)] + brute, details: details, omitted: [.bruteForce: 5])
        let c = f.capped(perRule: 3)
        #expect(c.alerts == [Alert(.cpuSpike)] + brute.prefix(3))
        #expect(c.details == Array(details.prefix(3)))
        #expect(c.omitted == [.bruteForce: 12])
        #expect(c.raisedCount == f.raisedCount)
        #expect(f.capped(perRule: 10) == f, "within the cap: unchanged")
    }

    /// Every detector of a set is held to the set's cap, whichever rule it raises.
    @Test func aDetectorSetCapsEveryRule() {
        var s = DetectorSettings(failedAuthThreshold: 2, authWindowSeconds: 600, baselineSamples: 5, cpuSpikePct: 90)
        s.userEnumThreshold = 2
        s.maxAlertsPerRule = 7
        let set = DetectorSet(standard: s)
        var auth: [AuthTally] = []
        for i in 0..<50 {
            for user in ["a", "b"] {
                var t = AuthTally(source: AuthSourceAddress("192.0.2.\(i)"))
                t.failures = 1
                t.user = user
                t.invalidUser = true
                auth.append(t)
            }
        }
        set.observe(Observations(auth: auth), at: 1_000)
        let f = set.cycle(at: 1_000)
        #expect(f.alerts.filter { $0.rule == .bruteForce }.count == 7 && f.omitted[.bruteForce] == 43)
        #expect(f.alerts.filter { $0.rule == .userEnumeration }.count == 7 && f.omitted[.userEnumeration] == 43)
    }
}

@Suite struct WorstFirstTests {
    /// Against a model: the kept elements are the sorted list's first `limit`, in order.
    @Test(arguments: [0, 1, 7, 100, 5_000])
    func keepsTheMostSevereInOrder(_ limit: Int) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let values = (0..<Int.random(in: 0...2_000, using: &rng)).map { _ in Int.random(in: 0...300, using: &rng) }
            var w = WorstFirst<Int>(limit: limit, worse: >)
            for v in values { w.offer(v) }
            #expect(w.sorted() == Array(values.sorted(by: >).prefix(limit)))
            #expect(w.offered == values.count && w.leftOut == values.count - min(limit, values.count))
        }
    }
}
