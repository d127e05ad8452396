import AgentCore
import AgentDetect
#if canImport(Glibc)
import Glibc
#endif

/// Auth figures: lines parsed and detected per second over a generated 1,000,000-line log (real
/// sshd line shapes, 20,000 attacking addresses, a third of the lines other programs' noise), and
/// bytes of heap per tracked address.
enum AuthBench {
    static func generate(lines n: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(n * 110)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<n {
            let attacker = i % 20_000
            let ip = "10.\((attacker >> 8) & 255).\(attacker & 255).7"
            let pid = 10_000 + i // one connection per line: per-connection dedup is exercised by the tests
            let prefix = "Nov 28 05:54:\(String(i % 60).leftPad(2)) vm "
            let line: String
            let port = 40_000 + i % 20_000
            switch UInt8.random(in: 0..<14, using: &rng) {
            case 0, 1: line = "sshd[\(pid)]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=\(ip)  user=root"
            case 2, 3, 4: line = "sshd[\(pid)]: Failed password for invalid user admin\(i % 97) from \(ip) port \(port) ssh2"
            case 5: line = "sshd[\(pid)]: Invalid user oracle from \(ip) port \(port)"
            case 6: line = "sshd[\(pid)]: Connection closed by invalid user oracle \(ip) port \(port) [preauth]"
            case 7: line = "CRON[\(pid)]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
            case 8: line = "systemd-logind[412]: New session \(i) of user deploy."
            case 9: line = "sshd[\(pid)]: error: PAM: Authentication failure for root from \(ip)"
            case 10: line = "sshd[\(pid)]: Failed publickey for invalid user git from \(ip) port \(port) ssh2: RSA SHA256:v3dpapGleDaUKf4V1vKyR9ZyUgjaJAmoCTcb2PLljI"
            case 11: line = "sshd[\(pid)]: Received disconnect from \(ip) port \(port):11: Bye Bye [preauth]"
            case 12: line = "sshd[\(pid)]: Connection closed by authenticating user root \(ip) port \(port) [preauth]"
            default: line = "sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/apt-get update"
            }
            out.append(contentsOf: Array((prefix + line + "\n").utf8))
        }
        return out
    }

    /// Resident bytes of this process (statm), page-granular.
    static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let fields = String(decoding: buf[0..<max(0, n)], as: UTF8.self).split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func run(lines n: Int, writeTo path: String?) {
        // Memory first, while the process is small: distinct IPv4 addresses, one failure each.
        let tracked = BruteForceDetector.defaultMaxTracked
        let before = residentBytes()
        var d = BruteForceDetector(threshold: 20, windowSeconds: 300, maxTracked: tracked)
        for i in 0..<tracked { d.record(address: "172.\(16 + i >> 16).\(i >> 8 & 255).\(i & 255)", at: 1_764_309_263) }
        let grown = residentBytes() - before
        let memoryLine = String(format: "  memory per tracked address: %10.1f bytes (RSS +%ld bytes for %ld addresses)",
                                Double(grown) / Double(d.tracked), grown, d.tracked)
        let log = generate(lines: n)
        if let path {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = log.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        // Best of 3 passes, each with fresh counters (as a restarted agent would have): the
        // agent's path, lines through the intake, a batch per 1,000 lines through every auth
        // detector (brute force with both windows, user enumeration, distributed brute force).
        var intake = AuthIntake()
        var detectors = authDetectors()
        var seconds = Double.infinity
        // AGENT_BENCH_PROFILE=full: only this path, ten passes (for perf record).
        let profileFull = getenv("AGENT_BENCH_PROFILE").map({ String(cString: $0) }) == "full"
        for _ in 0..<(profileFull ? 10 : 3) {
            intake = AuthIntake()
            detectors = authDetectors()
            let t0 = QueueBench.now()
            var batch: [AuthTally] = []
            batch.reserveCapacity(1024)
            log.withUnsafeBufferPointer { buf in
                var start = 0, n = 0
                let base = buf.baseAddress!
                while start < buf.count, let nl = memchr(base + start, 0x0A, buf.count - start) {
                    let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    intake.take(line: UnsafeBufferPointer(rebasing: buf[start..<end]), into: &batch)
                    n += 1
                    if n % 1000 == 0 {
                        for i in detectors.indices { detectors[i].observe(Observations(auth: batch), at: 1_764_309_263) }
                        batch.removeAll(keepingCapacity: true)
                    }
                    start = end + 1
                }
            }
            for i in detectors.indices { detectors[i].observe(Observations(auth: batch), at: 1_764_309_263) }
            seconds = min(seconds, QueueBench.now() - t0)
        }
        if profileFull { return }
        // The same file through the first stages alone: where the time goes.
        func best(_ pass: () -> Void) -> Double {
            var s = Double.infinity
            for _ in 0..<3 { let t0 = QueueBench.now(); pass(); s = min(s, QueueBench.now() - t0) }
            return s
        }
        func eachLine(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            log.withUnsafeBufferPointer { buf in
                var start = 0
                let base = buf.baseAddress!
                while start < buf.count, let nl = memchr(base + start, 0x0A, buf.count - start) {
                    let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    body(UnsafeBufferPointer(rebasing: buf[start..<end]))
                    start = end + 1
                }
            }
        }
        // AGENT_BENCH_PROFILE=intake: only the intake, ten times (for perf record).
        if getenv("AGENT_BENCH_PROFILE").map({ String(cString: $0) }) == "intake" {
            for _ in 0..<10 {
                var i = AuthIntake()
                var out: [AuthTally] = []
                eachLine { i.take(line: $0, into: &out); if out.count > 1000 { out.removeAll(keepingCapacity: true) } }
            }
            return
        }
        var parsed = 0
        let parseOnly = best { eachLine { if AuthLogParser.parse(line: $0) != nil { parsed += 1 } } }
        let intakeOnly = best {
            var i = AuthIntake()
            var out: [AuthTally] = []
            eachLine { i.take(line: $0, into: &out); if out.count > 1000 { out.removeAll(keepingCapacity: true) } }
        }
        // The path the first 2-million-lines/s figure was measured on: parse, count, brute force.
        let withBruteForce = best {
            var i = AuthIntake()
            var d = authDetectors()[0]
            var out: [AuthTally] = []
            out.reserveCapacity(1024)
            eachLine {
                i.take(line: $0, into: &out)
                if out.count >= 1000 { d.observe(Observations(auth: out), at: 1_764_309_263); out.removeAll(keepingCapacity: true) }
            }
            d.observe(Observations(auth: out), at: 1_764_309_263)
        }
        // Each detector alone on the intake's output, batch by batch as the agent feeds them.
        var batches: [[AuthTally]] = []
        do {
            var i = AuthIntake()
            var out: [AuthTally] = []
            eachLine { i.take(line: $0, into: &out); if out.count >= 1000 { batches.append(out); out.removeAll(keepingCapacity: true) } }
            batches.append(out)
        }
        var perDetector: [(String, Double)] = []
        for (k, name) in ["brute force (both windows)", "user enumeration", "distributed brute force"].enumerated() {
            perDetector.append((name, best {
                var d = authDetectors()[k]
                for b in batches { d.observe(Observations(auth: b), at: 1_764_309_263) }
            }))
        }
        let lines = intake.linesParsed
        var findings = Findings()
        for d in detectors { findings.add(d.findings(at: 1_764_309_263)) }
        let offenders = findings.alerts.filter { $0.rule == .bruteForce }.count
        print("auth benchmark: \(lines) lines (\(log.count >> 20) MiB), \(intake.events) sshd/PAM events, \(intake.failuresCounted) failed attempts, \(offenders) offending addresses, \(findings.alerts.count) alerts")
        print(String(format: "  parse:                      %10.0f lines/s (%.3f s, one core, best of 3)", Double(lines) / parseOnly, parseOnly))
        print(String(format: "  parse + count:              %10.0f lines/s (%.3f s)", Double(lines) / intakeOnly, intakeOnly))
        print(String(format: "  parse + count + brute force:%10.0f lines/s (%.3f s)", Double(lines) / withBruteForce, withBruteForce))
        print(String(format: "  parse + count + detect:     %10.0f lines/s (%.3f s, every auth detector)", Double(lines) / seconds, seconds))
        for (name, t) in perDetector {
            print("    " + name + String(repeating: " ", count: max(0, 27 - name.count)) + String(format: "%6.0f ns/line", t * 1e9 / Double(lines)))
        }
        print(String(format: "  throughput:                 %10.1f MiB/s", Double(log.count) / 1_048_576 / seconds))
        print(memoryLine)
        flood()
    }

    static func authDetectors() -> [any Detector] {
        [BruteForceDetector(threshold: 20, windowSeconds: 300, slowThreshold: 30),
         UserEnumerationDetector(threshold: 10, windowSeconds: 300),
         DistributedBruteForceDetector(threshold: 20, windowSeconds: 300)]
    }

    /// An address flood at the tracking cap: 1,000,000 failures from distinct sources of one
    /// kind (random IPv4; IPv6 from one /64, the shape an unkeyed hash lets an attacker collide; host
    /// names), each through parse + count + detect. Prints lines/s, the slowest 1,000-line batch
    /// (work per line is bounded, so no batch stalls) and RSS growth (bounded by the cap).
    static func flood() {
        var rng = SystemRandomNumberGenerator()
        let kinds: [(String, () -> String)] = [
            ("random IPv4", { "\(UInt8.random(in: 1...223, using: &rng)).\(UInt8.random(in: 0...255, using: &rng)).\(UInt8.random(in: 0...255, using: &rng)).\(UInt8.random(in: 1...254, using: &rng))" }),
            ("IPv6 in one /64", { "2001:db8:0:1:" + (0..<4).map { _ in String(UInt16.random(in: 0...0xFFFF, using: &rng), radix: 16) }.joined(separator: ":") }),
            ("host names", { "h\(UInt32.random(in: 0...UInt32.max, using: &rng)).attacker.example" }),
        ]
        print("address flood: 1,000,000 failures from distinct sources, tracking cap \(BruteForceDetector.defaultMaxTracked)")
        for (name, source) in kinds {
            let lines = (0..<1_000_000).map { i in
                Array("Nov 28 05:54:23 vm sshd[\(10_000 + i % 60_000)]: Failed password for root from \(source()) port 22 ssh2".utf8)
            }
            let before = residentBytes()
            var counter = AuthAttemptCounter()
            var detector = BruteForceDetector(threshold: 20, windowSeconds: 300, slowThreshold: 30)
            var slowest = 0.0
            let t0 = QueueBench.now()
            var batchStart = t0
            for (i, line) in lines.enumerated() {
                line.withUnsafeBufferPointer { buf in
                    if let e = AuthLogParser.parse(line: buf), let s = e.source {
                        detector.record(s.key, hostName: s.hostName, at: 1_764_309_263 + Int64(i / 20_000), count: counter.failures(for: e))
                    }
                }
                if i % 1000 == 999 {
                    let now = QueueBench.now()
                    slowest = max(slowest, now - batchStart)
                    batchStart = now
                }
            }
            let seconds = QueueBench.now() - t0
            _ = detector.offenders(at: 1_764_309_263 + 60)
            print("  " + name + String(repeating: " ", count: max(0, 16 - name.count))
                  + String(format: " %10.0f lines/s, slowest 1,000 lines %6.2f ms, tracked %6ld, evicted %7ld, RSS +%5.1f MB",
                         1_000_000 / seconds, slowest * 1000, detector.tracked, detector.evicted,
                         Double(residentBytes() - before) / 1_048_576))
        }
    }
}

extension String {
    func leftPad(_ w: Int) -> String { count >= w ? self : String(repeating: "0", count: w - count) + self }
}
