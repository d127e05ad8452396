import AgentCore
import AgentShipping
#if canImport(Glibc)
import Glibc
#endif

/// Disk queue figures: enqueue and drain with fsync per record (the agent's setting), and the
/// recovery time and drain rate of a 100 MiB backlog.
enum QueueBench {
    static func samplePayload(_ i: Int) throws -> EncodedPayload {
        let logs = (0..<8).map { LogEntry(container: "web-\($0)", message: "GET /api/v1/items/\(i) HTTP/1.1 200 512 \"-\" \"curl/8.0\"", timestamp: "2026-11-28T05:54:23Z") }
        return try EncodedPayload(Payload(
            payloadID: "bench-\(i)-\(String(repeating: "x", count: 8))", agentVersion: "bench", host: "bench-host", serverID: "srv-1",
            env: "prod", ownerTeam: "ops", timestamp: "2026-11-28T05:54:23Z",
            metrics: HostMetrics(cpuUsage: 12.5, memoryUsage: 40.1, diskUsage: 55.0, networkRxBytesPerSec: 1024, networkTxBytesPerSec: 2048, tcpConnections: 12),
            logs: logs, alerts: [Alert(.cpuSpike)]))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func run(directory: String, backlogMiB: Int, durableCount: Int) throws {
        let sample = try samplePayload(0)
        print("queue benchmark: payload \(sample.body.count) bytes, dir \(directory)")

        // 1. Durable enqueue and drain (fsync per record, cursor persisted per acknowledgement).
        let durableDir = directory + "/durable"
        let q = try DiskQueue(configuration: DiskQueueConfiguration(directory: durableDir))
        let payloads = try (0..<durableCount).map(samplePayload)
        var t = now()
        for p in payloads { try q.append(p) }
        let enqueueRate = Double(durableCount) / (now() - t)
        t = now()
        while let p = try q.first() { try q.removeFirst(ifID: p.id) }
        let drainRate = Double(durableCount) / (now() - t)
        print(String(format: "  enqueue (fsync each):       %8.0f payloads/s over %ld", enqueueRate, durableCount))
        print(String(format: "  drain (cursor each ack):    %8.0f payloads/s over %ld", drainRate, durableCount))

        // 2. A 100 MiB backlog: build it, recover it, drain part of it.
        let backlogDir = directory + "/backlog"
        let target = backlogMiB << 20
        var built = 0
        t = now()
        do {
            let b = try DiskQueue(configuration: DiskQueueConfiguration(directory: backlogDir, maxBytes: target + (1 << 20), fsyncEachRecord: false))
            var i = 0
            while b.byteCount < target { try b.append(payloads[i % payloads.count]); i += 1 }
            built = b.count
        }
        let buildSeconds = now() - t
        print(String(format: "  backlog: %ld payloads, %ld MiB written in %.2f s (no fsync)", built, backlogMiB, buildSeconds))
        t = now()
        let r = try DiskQueue(configuration: DiskQueueConfiguration(directory: backlogDir, maxBytes: target + (1 << 20)))
        let recovery = now() - t
        print(String(format: "  recovery of %ld MiB backlog:  %8.3f s (%ld payloads counted, %ld corrupt)", backlogMiB, recovery, r.count, r.corruptCount))
        let sampleDrain = min(20_000, r.count)
        t = now()
        for _ in 0..<sampleDrain { let p = try r.first()!; try r.removeFirst(ifID: p.id) }
        print(String(format: "  backlog drain:              %8.0f payloads/s over %ld", Double(sampleDrain) / (now() - t), sampleDrain))
    }
}
