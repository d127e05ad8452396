import AgentCore
import Synchronization

/// `--simulate-attack`: every cycle, synthetic sshd failures from a documentation address, a calm
/// CPU baseline then a spike, and an interactive shell in a container, pushed through the real
/// auth parser and a detector set of its own (so the host's real baseline and counts are not
/// touched). Its findings are the detectors' own verdicts; payloads carrying them are marked
/// `simulated`.
public final class AttackSimulatorSource: SignalSource {
    public static let attacker = "203.0.113.66"
    public let name = "simulator"
    let threshold: Int
    let baselineSamples: Int
    let detectors: DetectorSet
    private let intake = Mutex(AuthIntake())

    public init(_ settings: DetectorSettings) {
        threshold = settings.failedAuthThreshold
        baselineSamples = settings.baselineSamples
        detectors = DetectorSet(Detectors.standard(settings))
    }

    public func collect(at time: CycleTime) async -> SourceBatch {
        var batch = SourceBatch()
        batch.findings = cycle(now: time.wall)
        return batch
    }

    /// One cycle of synthetic attack: the findings the detectors raised.
    public func cycle(now: Int64) -> Findings {
        let stamp = "Nov 28 05:54:23 simulated sshd"
        let lines = (0..<threshold).map { i in
            "\(stamp)[\(40_000 + i)]: Failed password for invalid user admin from \(Self.attacker) port \(50_000 + i) ssh2"
        }
        let failures = intake.withLock { $0.take(lines: lines) }
        // A calm baseline, each sample a cycle of its own, then a spike: the CPU detector's rules decide.
        for _ in 0..<baselineSamples {
            detectors.observe(Observations(cpuUsage: 3.0 + Double(now % 3)), at: now)
            _ = detectors.cycle(at: now)
        }
        let shell = ContainerExec(container: "simulated", image: "simulated",
                                  process: ExecProcess(entrypoint: "/bin/sh", arguments: [], tty: true, stdin: true, user: "root"),
                                  healthcheck: nil)
        detectors.observe(Observations(cpuUsage: 100.0, auth: failures, execs: [shell]), at: now)
        return detectors.cycle(at: now)
    }
}
