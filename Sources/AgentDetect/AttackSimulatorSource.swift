import AgentCore

/// `--simulate-attack`: every cycle, synthetic sshd lines from documentation addresses (a brute
/// force through a list of invalid user names that then logs in, and one account tried from
/// many addresses), a calm CPU baseline then a spike, and an interactive shell in a container,
/// pushed through the real auth parser and a fresh detector set of its own (so the host's real
/// baseline and counts are not touched, and every cycle raises the same alerts). Its findings are
/// the detectors' own verdicts: every rule the agent knows; payloads carrying them are marked
/// `simulated`.
public final class AttackSimulatorSource: SignalSource {
    public static let attacker = "203.0.113.66"
    public let name = "simulator"
    let settings: DetectorSettings

    public init(_ settings: DetectorSettings) {
        self.settings = settings
    }

    public func collect(at time: CycleTime) async -> SourceBatch {
        var batch = SourceBatch()
        batch.findings = cycle(now: time.wall)
        return batch
    }

    /// One cycle of synthetic attack: the findings the detectors raised.
    public func cycle(now: Int64) -> Findings {
        let detectors = DetectorSet(standard: settings)
        var intake = AuthIntake()
        let auth = intake.take(lines: Self.authLines(settings))
        // A calm baseline, each sample a cycle of its own, then a spike: the CPU detector's rules decide.
        for _ in 0..<settings.baselineSamples {
            detectors.observe(Observations(cpuUsage: 3.0 + Double(now % 3)), at: now)
            _ = detectors.cycle(at: now)
        }
        let shell = ContainerExec(container: "simulated", image: "simulated",
                                  process: ExecProcess(entrypoint: "/bin/sh", arguments: [], tty: true, stdin: true, user: "root"),
                                  healthcheck: nil)
        detectors.observe(Observations(cpuUsage: 100.0, auth: auth, execs: [shell]), at: now)
        return detectors.cycle(at: now)
    }

    /// The attacker fails with as many distinct invalid user names as both thresholds need, one
    /// connection each, then logs in as `deploy`; `deploy` is also failed once from as many other
    /// documentation addresses as the distributed threshold needs.
    static func authLines(_ s: DetectorSettings) -> [String] {
        let stamp = "Nov 28 05:54:23 simulated sshd"
        var lines = (0..<max(s.failedAuthThreshold, s.userEnumThreshold)).map { i in
            "\(stamp)[\(40_000 + i)]: Failed password for invalid user admin\(i) from \(attacker) port \(50_000 + i) ssh2"
        }
        lines.append("\(stamp)[41000]: Accepted password for deploy from \(attacker) port 51000 ssh2")
        for i in 0..<s.distributedAddresses {
            lines.append("\(stamp)[\(42_000 + i)]: Failed password for deploy from 203.0.113.\(100 + i) port \(52_000 + i) ssh2")
        }
        return lines
    }
}
