import AgentCore
import AgentPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Bytes on the wire per payload with and without gzip, and what compressing costs: an idle
/// host's payload (metrics, no logs) and a log-heavy one (500 container log lines taken from a
/// recorded dockerd stream, the default --max-log-entries), built as the collector builds them.
enum CompressBench {
    static func run(fixture: String) throws {
        let stream = try FileReading.readBytes(path: fixture)
        // Demultiplex the recorded frames (8-byte header: stream, 3 zero bytes, big-endian size).
        var lines: [String] = []
        var i = 0
        while i + 8 <= stream.count {
            let size = Int(stream[i + 4]) << 24 | Int(stream[i + 5]) << 16 | Int(stream[i + 6]) << 8 | Int(stream[i + 7])
            guard i + 8 + size <= stream.count else { break }
            let text = String(decoding: stream[(i + 8)..<(i + 8 + size)], as: UTF8.self)
            lines += text.split(separator: "\n").map(String.init)
            i += 8 + size
        }
        let metrics = HostMetrics(cpuUsage: 3.2, memoryUsage: 41.7, diskUsage: 63.1, networkRxBytesPerSec: 18_342.5,
                                  networkTxBytesPerSec: 9_120.25, tcpConnections: 57)
        func payload(logs n: Int) -> Payload {
            var p = Payload(payloadID: PayloadID.random(), agentVersion: "bench", host: "web-01.prod.example.net", serverID: "web-01",
                            env: "prod", ownerTeam: "platform", timestamp: "2026-11-30T21:00:00Z", metrics: metrics)
            p.logs = (0..<n).map { k in
                // The recorded line starts with dockerd's timestamp; the payload keeps it apart.
                let line = lines[k % max(1, lines.count)]
                let cut = line.firstIndex(of: " ").map { line.index(after: $0) } ?? line.startIndex
                return LogEntry(container: "web-\(k % 4)", message: String(line[cut...]), timestamp: String(line[..<cut].dropLast()))
            }
            return p
        }
        print("payload compression (gzip, zlib default level; \(lines.count) recorded log lines):")
        for (name, n) in [("idle host (no logs)", 0), ("log-heavy (500 lines)", 500)] {
            let body = try PayloadCoding.encode(payload(logs: n))
            let rounds = n == 0 ? 20_000 : 500
            var out = 0
            let t0 = QueueBench.now()
            for _ in 0..<rounds { out = Gzip.compress(body).count }
            let each = (QueueBench.now() - t0) / Double(rounds)
            let t1 = QueueBench.now()
            let gz = Gzip.compress(body)
            for _ in 0..<rounds { _ = try Gzip.decompress(gz, limit: body.count) }
            let back = (QueueBench.now() - t1) / Double(rounds)
            print("  " + name.padding(24) + String(format: "%8d bytes -> %7d gzip (%4.1f %%), compress %7.1f us, decode %6.1f us", body.count, out,
                                                   100 * Double(out) / Double(body.count), each * 1e6, back * 1e6))
        }
        print("  (bodies under --compress-min-bytes, 1024 by default, are sent as they are)")
    }
}
