import AgentApp
import AgentCore
import AgentPlatform
import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// `server-loadgen`: N simulated agents, each with its own server id and a key of the keyring,
/// sending realistic signed payloads (metrics, container logs and events, alerts with their
/// detail) to one or more receivers at a fixed rate. Open loop: request i is due at i / rate
/// seconds, and its latency counts from when it was due, so a receiver that falls behind shows
/// in the percentiles instead of slowing the generator down. Requests go on keep-alive
/// connections of its own (`Driver`), cheap beside the server it measures when both share a
/// machine. Prints figures; asserts nothing.
struct Loadgen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-loadgen",
        abstract: "Send signed payloads from simulated agents to receivers at a fixed rate; print throughput and latency.")

    @Option(name: .customLong("url"), help: "Receiver ingest URL (repeat for several; requests alternate between them)") var urls: [String]
    @Option(help: "Simulated agents (server ids)") var agents = 200
    @Option(help: "Payloads per second, all agents together") var rate = 2_000.0
    @Option(help: "Seconds to send for") var duration = 30.0
    @Option(help: "Connections to each receiver (requests in flight at most, per receiver)") var concurrency = 128
    @Option(help: "Container log lines per payload") var logs = 5
    @Option(help: "File with the shared secret") var secretFile: String?
    @Option(help: "Keyring file (id: secret lines): agent i signs with key i mod count and names it") var keyring: String?
    @Flag(help: "Send every payload to every URL (two receivers on one database must store it once)") var everyURL = false
    @Option(help: "Date the payloads over the last this many seconds instead of now, metrics varying with their time (a history for the dashboard's charts)")
    var backfill = 0
    @Flag(help: "Print one JSON line of figures") var json = false

    func run() async throws {
        guard !urls.isEmpty, rate > 0, duration > 0, agents > 0, concurrency > 0 else { throw ValidationError("need --url, and positive numbers") }
        let keys = try loadKeys()
        let targets = try urls.map(Self.target)
        let payloads = Int(rate * duration)
        let fan = everyURL ? targets.count : 1
        let templates = (0..<agents).map { Self.template(agent: $0, logs: logs) }
        let interval = 1e9 / rate
        let (agents, everyURL, backfill) = (self.agents, self.everyURL, Int64(max(0, self.backfill)))
        let runStart = System.unixNow()
        // Request i is payload i / fan; with --every-url its copies go to each target in turn.
        var body = ByteBuffer(), signature = "", timestamp: Int64 = 0
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let driver = Driver(loop: loop, targets: targets.map { ($0.host, $0.port) }, connectionsPerTarget: concurrency,
                            total: payloads * fan) { i, start in
            let n = i / fan, agent = n % agents
            let key = keys[agent % keys.count]
            if i % fan == 0 {
                var p = templates[agent]
                p.payloadID = PayloadID.random()
                timestamp = System.unixNow()
                let collected = backfill == 0 ? timestamp : runStart - backfill + backfill * Int64(n) / Int64(max(1, payloads))
                p.timestamp = RFC3339.format(unixSeconds: collected)
                if backfill > 0 { p.metrics = Self.metrics(agent: agent, at: collected) }
                let bytes = (try? PayloadCoding.encode(p)) ?? []
                signature = key.signer.headerValue(timestamp: timestamp, body: bytes)
                body = ByteBuffer(bytes: bytes)
            }
            let t = everyURL ? i % fan : n % targets.count
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: targets[t].path)
            head.headers.add(name: "Host", value: "\(targets[t].host):\(targets[t].port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            head.headers.add(name: PayloadSigner.timestampHeader, value: "\(timestamp)")
            head.headers.add(name: PayloadSigner.signatureHeader, value: signature)
            if let id = key.id { head.headers.add(name: Keyring.keyIDHeader, value: id) }
            return PlannedRequest(target: t, due: start + .nanoseconds(Int64(Double(n) * interval)), head: head, body: body)
        }
        let start = ContinuousClock.now
        let stats = try await driver.run(patience: .seconds(60))
        report(stats, elapsed: ContinuousClock.now - start, keys: keys.count)
    }

    /// `http://host:port/path` (the only form the generator sends to).
    static func target(_ url: String) throws -> (host: String, port: Int, path: String) {
        guard url.hasPrefix("http://") else { throw ValidationError("--url must be http://host:port/path: \(url)") }
        let rest = url.dropFirst("http://".count)
        let hostPort = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostPort.count)
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65_535).contains(port) else { throw ValidationError("--url needs host:port: \(url)") }
        return (String(parts[0]), port, path.isEmpty ? "/" : String(path))
    }

    func loadKeys() throws -> [(id: String?, signer: PayloadSigner)] {
        if let keyring {
            let parsed = try Keyring.parse(try FileOps.readAll(keyring))
            return parsed.map { (Optional($0.id), PayloadSigner(secret: $0.secret)) }
        }
        guard let secretFile else { throw ValidationError("need --secret-file or --keyring") }
        let secret = try ConfigResolver.secret(fileBytes: try FileOps.readAll(secretFile), path: secretFile)
        return [(nil, PayloadSigner(secret: secret))]
    }

    /// Metrics that move with time as a host's do: a daily wave and a faster one, a slow disk fill.
    static func metrics(agent: Int, at t: Int64) -> HostMetrics {
        let day = Double(t % 86_400) / 86_400 * 2 * .pi, phase = Double(agent % 24) / 24 * 2 * .pi
        let fast = sin(Double(t) / 900 + phase)
        func r(_ v: Double) -> Double { (v * 100).rounded() / 100 }
        return HostMetrics(cpuUsage: r(max(0, min(100, 45 + 30 * sin(day + phase) + 12 * fast))),
                           memoryUsage: r(55 + 15 * sin(day / 2 + phase)), diskUsage: r(40 + Double(t % 604_800) / 604_800 * 20),
                           networkRxBytesPerSec: r(200_000 + 150_000 * sin(day + phase)), networkTxBytesPerSec: r(80_000 + 60_000 * fast),
                           tcpConnections: Int(40 + 25 * sin(day + phase)))
    }

    /// A payload as a busy host sends it: metrics, `logs` container lines (one masked secret),
    /// a container event, and two alerts with their detail.
    static func template(agent: Int, logs: Int) -> Payload {
        var brute = AlertDetail(auth: .bruteForce, source: "203.0.113.\(agent % 250)", failures: 12, windowSeconds: 60)
        brute.services = ["sshd"]
        let name = "loadgen-\(agent)"
        return Payload(payloadID: "", agentVersion: "loadgen", host: name, serverID: name, env: agent % 3 == 0 ? "prod" : "staging",
                       ownerTeam: "team-\(agent % 7)", timestamp: "",
                       metrics: HostMetrics(cpuUsage: Double(agent % 100), memoryUsage: 41.5, diskUsage: 63.25, networkRxBytesPerSec: 120_000,
                                            networkTxBytesPerSec: 48_000, tcpConnections: 37),
                       dockerEvents: [DockerEvent(type: "container", action: "start", container: "api-\(agent)", image: "nginx:1.27",
                                                  timestamp: "2026-12-01T10:00:00Z")],
                       logs: (0..<logs).map { LogEntry(container: "api-\(agent)", message: $0 == 0
                                                          ? "POST /login 200 password=[MASKED]"
                                                          : "10.0.0.\($0) - - \"GET /api/items/\($0) HTTP/1.1\" 200 512 \"-\" \"curl/8.5\"",
                                                      timestamp: "2026-12-01T10:00:0\($0 % 10)Z") },
                       alerts: [Alert(.cpuSpike), Alert(.bruteForce, subject: "203.0.113.\(agent % 250)")],
                       alertsDetail: [AlertDetail(rule: .cpuSpike), brute])
    }

    func report(_ s: Stats, elapsed: Duration, keys: Int) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = s.latencies.sorted()
        func pct(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1_000 }
        let answered = s.stored + s.duplicate
        let perSecond = Double(answered) / seconds
        let errors = s.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        func ms(_ v: Double) -> String { String(Double(Int(v * 100)) / 100) }
        if json {
            print("{\"requests\":\(s.latencies.count),\"stored\":\(s.stored),\"duplicate\":\(s.duplicate),\"failed\":\(s.failed),"
                  + "\"statuses\":\"\(errors)\",\"seconds\":\(ms(seconds)),\"per_second\":\(ms(perSecond)),\"p50_ms\":\(ms(pct(0.5))),"
                  + "\"p90_ms\":\(ms(pct(0.9))),\"p99_ms\":\(ms(pct(0.99))),\"max_ms\":\(ms(sorted.last.map { $0 * 1_000 } ?? 0))}")
        } else {
            print("agents \(agents) (keys \(keys)), target \(rate)/s for \(duration) s, \(urls.count) receiver(s)\(everyURL ? ", every payload to each" : "")")
            print("requests \(s.latencies.count): stored \(s.stored), duplicate \(s.duplicate), refused \(errors.isEmpty ? "0" : errors), failed \(s.failed)")
            print("answered 200: \(ms(perSecond))/s over \(ms(seconds)) s; latency from due time ms: p50 \(ms(pct(0.5))) p90 \(ms(pct(0.9))) "
                  + "p99 \(ms(pct(0.99))) max \(ms(sorted.last.map { $0 * 1_000 } ?? 0))")
        }
    }
}

enum Outcome { case stored, duplicate, status(Int), failed }

struct Stats {
    var stored = 0, duplicate = 0, failed = 0
    var statuses = [Int: Int]()
    var latencies = [Double]()

    mutating func record(_ o: Outcome, latency: Duration) {
        latencies.append(Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18)
        switch o {
        case .stored: stored += 1
        case .duplicate: duplicate += 1
        case .status(let code): statuses[code, default: 0] += 1
        case .failed: failed += 1
        }
    }

    mutating func merge(_ o: Stats) {
        stored += o.stored; duplicate += o.duplicate; failed += o.failed
        statuses.merge(o.statuses, uniquingKeysWith: +)
        latencies += o.latencies
    }
}

@main
enum Entry {
    static func main() {
        SynchronousMain.run { await Loadgen.main() }
    }
}
