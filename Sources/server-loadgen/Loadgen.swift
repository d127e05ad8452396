import AgentApp
import AgentCore
import AgentPlatform
import ArgumentParser
import AsyncHTTPClient
import NIOCore
import Synchronization

/// `server-loadgen`: N simulated agents, each with its own server id and a key of the keyring,
/// sending realistic signed payloads (metrics, container logs and events, alerts with their
/// detail) to one or more receivers at a fixed rate. Open loop: request i is due at i / rate
/// seconds, and its latency counts from when it was due, so a receiver that falls behind shows
/// in the percentiles instead of slowing the generator down. Prints figures; asserts nothing.
struct Loadgen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-loadgen",
        abstract: "Send signed payloads from simulated agents to receivers at a fixed rate; print throughput and latency.")

    @Option(name: .customLong("url"), help: "Receiver ingest URL (repeat for several; requests alternate between them)") var urls: [String]
    @Option(help: "Simulated agents (server ids)") var agents = 200
    @Option(help: "Payloads per second, all agents together") var rate = 2_000.0
    @Option(help: "Seconds to send for") var duration = 30.0
    @Option(help: "Requests in flight at most") var concurrency = 128
    @Option(help: "Container log lines per payload") var logs = 5
    @Option(help: "File with the shared secret") var secretFile: String?
    @Option(help: "Keyring file (id: secret lines): agent i signs with key i mod count and names it") var keyring: String?
    @Flag(help: "Send every payload to every URL (two receivers on one database must store it once)") var everyURL = false
    @Flag(help: "Print one JSON line of figures") var json = false

    func run() async throws {
        guard !urls.isEmpty, rate > 0, duration > 0, agents > 0, concurrency > 0 else { throw ValidationError("need --url, and positive numbers") }
        let keys = try loadKeys()
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(connectionPool: .init(idleTimeout: .seconds(60),
                                                                           concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        let total = Int(rate * duration)
        let templates = (0..<agents).map { Self.template(agent: $0, logs: logs) }
        let stats = StatsBox()
        let start = ContinuousClock.now
        let workers = min(concurrency, total)
        let (rate, agents, urls, everyURL) = (self.rate, self.agents, self.urls, self.everyURL)
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var mine = Stats()
                    var i = w
                    while i < total {
                        let due = start + .seconds(Double(i) / rate)
                        if due > .now { try? await Task.sleep(until: due) }
                        let agent = i % agents
                        var p = templates[agent]
                        p.payloadID = PayloadID.random()
                        p.timestamp = RFC3339.format(unixSeconds: System.unixNow())
                        let body = (try? PayloadCoding.encode(p)) ?? []
                        let key = keys[agent % keys.count]
                        let targets = everyURL ? urls : [urls[i % urls.count]]
                        for url in targets {
                            let outcome = await Self.send(client, url: url, body: body, key: key)
                            mine.record(outcome, latency: ContinuousClock.now - due)
                        }
                        i += workers
                    }
                    let done = mine
                    stats.all.withLock { $0.merge(done) }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        try await client.shutdown()
        report(stats.all.withLock { $0 }, elapsed: elapsed, keys: keys.count)
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

    static func send(_ client: HTTPClient, url: String, body: [UInt8], key: (id: String?, signer: PayloadSigner)) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        let ts = System.unixNow()
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: PayloadSigner.timestampHeader, value: "\(ts)")
        request.headers.add(name: PayloadSigner.signatureHeader, value: key.signer.headerValue(timestamp: ts, body: body))
        if let id = key.id { request.headers.add(name: Keyring.keyIDHeader, value: id) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 4_096))
            guard response.status.code == 200 else { return .status(Int(response.status.code)) }
            return text.contains("duplicate") ? .duplicate : .stored
        } catch {
            return .failed
        }
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

final class StatsBox: Sendable {
    let all = Mutex(Stats())
}

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
