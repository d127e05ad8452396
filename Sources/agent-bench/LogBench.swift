import AgentCore
import AgentPlatform
import AgentLinux
#if canImport(Glibc)
import Glibc
#endif

/// Container log throughput on one core, on a stream recorded from dockerd (multiplexed frames
/// with timestamps: access-log lines, JSON logs, application lines on stderr, lines with secrets)
/// repeated to the requested size. Two figures:
/// - the agent's path: demultiplex, 5xx counting and private-key state on every line, then mask
///   and cut the lines a payload keeps (`--max-log-entries` 500 per 1 s interval here);
/// - every line masked and cut, as if every line were kept.
extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

enum LogBench {
    static func run(mib: Int, fixture: String) throws {
        let recorded = try FileReading.readBytes(path: fixture)
        var stream = [UInt8]()
        stream.reserveCapacity(mib << 20 + recorded.count)
        while stream.count < mib << 20 { stream += recorded }
        print("container logs (recorded dockerd stream, \(recorded.count) bytes, repeated to \(stream.count >> 20) MiB):")
        let agent = measure(stream) { lines, activity, intake in
            var pending: [PendingLogLine] = []
            var statuses = HTTPStatusCounts()
            intake.take(lines, now: { "" }, into: &pending, statuses: &statuses)
            activity.add(pending: pending, statuses: statuses, container: "web")
        }
        report("agent path (mask what is kept)", agent, stream.count)
        let processor = LogLineProcessor(maxLineBytes: 4096)
        var maskers = [SecretMasker](repeating: SecretMasker(), count: 3)
        var masked = 0
        let all = measure(stream) { lines, _, _ in
            for j in lines.indices {
                let r = processor.process(lines[j], container: "web", masker: &maskers[Int(lines[j].stream.rawValue)], fallbackTimestamp: "")
                masked += r.maskedValues
                _ = HTTPStatusParser.status(in: lines[j].bytes)
            }
        }
        report("every line masked and cut", all, stream.count)
        print("  values masked when every line is: \(masked / 3)")
    }

    static func report(_ what: String, _ r: (seconds: Double, lines: Int, activity: DockerActivity), _ bytes: Int) {
        let c = r.activity.counters
        let mibps = Double(bytes) / Double(1 << 20) / r.seconds
        print("  " + what.padding(34) + String(format: "%7.1f MiB/s %10.0f lines/s  (best of 3)", mibps, Double(r.lines) / r.seconds))
        if c.logLinesStreamed > 0 {
            print("    lines \(c.logLinesStreamed / 3) per run, kept \((c.logLinesStreamed - c.logLinesDropped) / 3), masked values in kept lines \(c.valuesMasked / 3)")
        }
    }

    static func measure(_ stream: [UInt8], _ body: ([DockerLogLine], DockerActivity, inout LogIntake) -> Void)
        -> (seconds: Double, lines: Int, activity: DockerActivity) {
        let activity = DockerActivity(maxEventsPerPayload: 200, maxLogEntries: 500)
        var best = Double.infinity
        var lines = 0
        for _ in 0..<3 {
            let start = ContinuousClock.now
            var decoder = DockerLogDecoder(tty: false, holdBytes: 4096 + 1024)
            var intake = LogIntake(container: "web")
            var out: [DockerLogLine] = []
            lines = 0
            var i = 0
            var nextDrain = ContinuousClock.now + .seconds(1)
            let chunk = 32 << 10 // what one read from the socket brings
            while i < stream.count {
                decoder.feed(stream[i..<min(i + chunk, stream.count)], into: &out)
                i += chunk
                body(out, activity, &intake)
                lines += out.count
                out.removeAll(keepingCapacity: true)
                if ContinuousClock.now >= nextDrain { // one payload per second
                    _ = activity.drain()
                    nextDrain = ContinuousClock.now + .seconds(1)
                }
            }
            _ = activity.drain()
            best = min(best, (ContinuousClock.now - start).inSeconds)
        }
        return (best, lines, activity)
    }
}
