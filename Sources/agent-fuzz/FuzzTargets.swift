import AgentCore
import AgentDetect
import AgentPlatform
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz targets: every parser that reads bytes from outside the process. Each must return for
/// any input, never trap (an overflow, an out-of-range index, a force-unwrap). Built two ways:
/// - with libFuzzer (`scripts/fuzz.sh`: `-sanitize=fuzzer,address -D FUZZING`), libFuzzer's
///   `main` drives `LLVMFuzzerTestOneInput`, the target named by `AGENT_FUZZ_TARGET`;
/// - plainly (`swift build`), `agent-fuzz TARGET FILE...` runs each file through the target once,
///   so every crash ever found (Tests/Fixtures/fuzz/) is replayed by the ordinary tests.
enum FuzzTargets {
    static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("auth-line", authLine), ("journal", journal), ("docker-frames", dockerFrames),
        ("docker-event", dockerEvent), ("timestamps", timestamps), ("proc", proc), ("flat-yaml", flatYAML),
        ("options", options), ("http-date", httpDate), ("receiver", receiver), ("queue-segment", queueSegment),
        ("secret-masker", secretMasker), ("json-array", jsonArray), ("address", address), ("gzip", gzip),
        ("payload-decode", payloadDecode),
    ]

    static func named(_ name: String) -> (@Sendable ([UInt8]) -> Void)? { all.first { $0.name == name }?.run }

    static func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    /// Splits the input at the first `n - 1` zero bytes: several fields from one input.
    static func fields(_ b: [UInt8], _ n: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var rest = b[...]
        while out.count < n - 1, let z = rest.firstIndex(of: 0) {
            out.append(Array(rest[..<z]))
            rest = rest[(z + 1)...]
        }
        out.append(Array(rest))
        while out.count < n { out.append([]) }
        return out
    }

    static func authLine(_ b: [UInt8]) {
        _ = AuthLogParser.parse(line: text(b))
        _ = AuthLogParser.parse(message: text(b), pid: 7)
        var settings = DetectorSettings(failedAuthThreshold: 1, authWindowSeconds: 60, baselineSamples: 2, cpuSpikePct: 90)
        settings.maxTrackedAddresses = 4
        let detectors = DetectorSet(Detectors.standard(settings))
        var intake = AuthIntake()
        let failures = intake.take(lines: text(b).split(separator: "\n", omittingEmptySubsequences: false))
        detectors.observe(Observations(auth: failures), at: 1_700_000_000)
        _ = detectors.cycle(at: 1_700_000_000)
    }

    static func journal(_ b: [UInt8]) {
        _ = JournalEntry.parse(text(b))
    }

    static func dockerFrames(_ b: [UInt8]) {
        for tty in [false, true] {
            var d = DockerLogDecoder(tty: tty, timestamps: true, holdBytes: 256)
            var lines: [DockerLogLine] = []
            let half = b.count / 2
            d.feed(b[..<half], into: &lines)
            d.feed(b[half...], into: &lines)
            d.finish(into: &lines)
            var masker = SecretMasker()
            var intake = LogIntake(container: "c")
            var pending: [PendingLogLine] = []
            var statuses = HTTPStatusCounts()
            intake.take(lines, now: { "t" }, into: &pending, statuses: &statuses)
            for line in lines { _ = masker.mask(line.bytes) }
        }
    }

    static func dockerEvent(_ b: [UInt8]) {
        guard let e = try? JSONDecoder().decode(DockerEventMessage.self, from: Data(b)) else { return }
        _ = e.baseAction
        _ = e.execCommand
        _ = e.timestamp?.description
        _ = e.timestamp?.sinceParameter
        _ = try? JSONDecoder().decode(DockerContainerInspect.self, from: Data(b)).startedAt
    }

    static func timestamps(_ b: [UInt8]) {
        if let t = DockerTimestamp(rfc3339: b) { _ = t.description; _ = t.sinceParameter }
        _ = RFC3339.parse(text(b))
        if b.count >= 8 {
            let v = b.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
            _ = DockerTimestamp(timeNano: v).description
            _ = RFC3339.format(unixSeconds: v % 253_402_300_800) // years 1-9999 either side of 1970
            _ = HTTPDate.format(unixSeconds: v % 253_402_300_800)
        }
    }

    static func proc(_ b: [UInt8]) {
        if let a = try? ProcStat.parse(b), let c = try? ProcStat.parse(Array(b.reversed())) {
            _ = CPUTimes.usagePercent(from: a, to: c)
        }
        _ = try? MemInfo.usagePercent(b)
        if let n = try? NetDev.parse(b) { _ = NetDev.rates(old: n, new: n, elapsedSeconds: 0) }
        _ = try? NetSNMP.tcpCurrentlyEstablished(b)
    }

    static func flatYAML(_ b: [UInt8]) {
        _ = try? FlatYAML.parse(text(b))
    }

    /// `name=value` lines as environment variables, through the whole option resolution.
    static func options(_ b: [UInt8]) {
        var env: [String: String] = [:]
        for line in text(b).split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { env[String(kv[0])] = String(kv[1]) }
        }
        let resolver = ConfigResolver(flags: [:], environment: env, hostname: "h") { _ in b }
        _ = try? resolver.resolve()
        _ = HTTPTarget.parse(env["SERVER_URL"] ?? text(b))
    }

    static func httpDate(_ b: [UInt8]) {
        _ = HTTPDate.parse(text(b))
        for now in [Int64.min, 0, 1_700_000_000, Int64.max] { _ = RetryPolicy.parseRetryAfter(text(b), now: now) }
        _ = RetryPolicy().decide(.status(503, retryAfterSeconds: RetryPolicy.parseRetryAfter(text(b), now: 0)), attempt: 0, unitRandom: 0.5)
    }

    /// Timestamp header, signature header and body.
    static func receiver(_ b: [UInt8]) {
        let f = fields(b, 3)
        let v = IngestVerifier(secret: Secret("k"), maxSkewSeconds: 300)
        for now in [Int64.min, 1_700_000_000, Int64.max] {
            _ = v.verify(timestamp: text(f[0]), signature: text(f[1]), body: f[2], now: now)
        }
        _ = try? PayloadCoding.decode(f[2])
        _ = PayloadID.isValid(text(f[2]))
    }

    /// The receiver's payload reader against JSONDecoder on the same bytes: whatever the reader
    /// accepts, JSONDecoder reads as the same payload (once zeros with an exponent, which it
    /// refuses in part, are written 0). The reader refuses more: what is not JSON.
    static func payloadDecode(_ b: [UInt8]) {
        guard let mine = try? PayloadCoding.decode(b) else { return }
        let theirs = (try? JSONDecoder().decode(Payload.self, from: Data(b)))
            ?? (try? JSONDecoder().decode(Payload.self, from: Data(JSONDecoderComparison.zeroExponentsAsZero(b))))
        precondition(theirs == mine, theirs == nil ? "the payload reader accepted what JSONDecoder refuses" : "the payload reader read it differently")
    }

    /// A request body sent with `Content-Encoding: gzip`: decoded within a limit or refused; and
    /// any bytes survive a round trip.
    static func gzip(_ b: [UInt8]) {
        _ = try? Gzip.decompress(b, limit: 1 << 16)
        let back = try? Gzip.decompress(Gzip.compress(b), limit: b.count)
        precondition(back == b, "gzip round trip changed the bytes")
    }

    static func queueSegment(_ b: [UInt8]) {
        let scan = SegmentScanner.scan(b)
        _ = SegmentScanner.scan(b, startingAt: min(b.count, scan.cleanLength))
    }

    static func secretMasker(_ b: [UInt8]) {
        var m = SecretMasker()
        for line in b.split(separator: 10, omittingEmptySubsequences: false) {
            _ = m.mask(Array(line))
            _ = HTTPStatusParser.status(in: Array(line))
        }
    }

    static func jsonArray(_ b: [UInt8]) {
        var s = JSONArrayScanner(maxElementBytes: 64)
        var out: [[UInt8]] = []
        s.feed(b, into: &out)
        for e in out { _ = try? JSONDecoder().decode(DockerContainerSummary.self, from: Data(e)) }
    }

    static func address(_ b: [UInt8]) {
        if let k = AddressKey.parseIP(b) { _ = k.ipText }
        _ = AddressKey.isHostName(b)
        var d = BruteForceDetector(threshold: 1, windowSeconds: 8, maxTracked: 2)
        d.record(address: text(b), at: 1, count: 3)
        _ = d.offenders(at: 2)
    }
}

/// A line on standard error.
func warn(_ text: String, _: Any? = nil) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

#if FUZZING
nonisolated(unsafe) var selected: (@Sendable ([UInt8]) -> Void)?

/// libFuzzer's own driver (the executable's entry point is this module's `main`, so libFuzzer is
/// started from it rather than by its `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main struct FuzzMain {
    static func main() {
        let name = getenv("AGENT_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let run = FuzzTargets.named(name) else {
            warn("AGENT_FUZZ_TARGET must name one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))\n")
            exit(2)
        }
        selected = run
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            selected?(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}
#else
/// `agent-fuzz TARGET FILE...`: each file through the target once (the replay of saved inputs).
/// `agent-fuzz list`: the target names.
@main struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first else {
            warn("usage: agent-fuzz TARGET FILE... | agent-fuzz list\n")
            exit(64)
        }
        if name == "list" {
            for t in FuzzTargets.all { print(t.name) }
            return
        }
        guard let run = FuzzTargets.named(name) else {
            warn("agent-fuzz: unknown target \(name)\n")
            exit(64)
        }
        var n = 0
        for path in args.dropFirst() {
            guard let fd = fopen(path, "rb") else { warn("agent-fuzz: cannot open \(path)\n"); exit(66) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let r = fread(&chunk, 1, chunk.count, fd)
                if r <= 0 { break }
                bytes += chunk[..<r]
            }
            fclose(fd)
            run(bytes)
            n += 1
        }
        print("\(name): \(n) inputs replayed")
    }
}
#endif
