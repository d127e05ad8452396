import AgentCore
@testable import AgentShipping
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TestSupport
import Testing

@Suite struct ShipperTests {
    @Test func retriesRetryableThenSucceedsWithSameIDAndFreshSignature() async throws {
        let t = ScriptedTransport([.response(status: 503, retryAfter: nil, date: nil), .failure(reason: "refused"),
                                   .response(status: 429, retryAfter: "0", date: nil)])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, status: status)
        await s.submit(try testPayload("p1"))
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        let sent = t.sent
        #expect(sent.count == 4 && Set(sent.map(\.id)) == ["p1"])
        #expect(Set(sent.map(\.timestamp)).count == 4, "re-signed with the current time on each attempt")
        for x in sent { #expect(PayloadSigner(secret: Secret("k")).verify(headerValue: x.signature, timestamp: Int64(x.timestamp)!, body: x.body)) }
        let snap = s.deliveryStatus
        #expect(snap.payloadsSent == 1 && snap.retries == 3 && snap.queueLength == 0 && snap.lastSendOKUnix != nil)
        #expect(snap.sendFailures == ["status_503": 1, "transport": 1, "status_429": 1])
    }

    /// Bodies at or above --compress-min-bytes go gzip-compressed with `Content-Encoding: gzip`;
    /// the signature covers the body as built (what a receiver has after decoding); smaller bodies
    /// and every body with the threshold at 0 go as they are. The bytes on the wire are counted.
    @Test func compressesLargeBodiesAndSignsTheUncompressedBody() async throws {
        let t = ScriptedTransport([])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, status: status, compressMinBytes: 1024)
        let small = try testPayload("small"), large = try testPayload("large", pad: 4000)
        #expect(small.body.count < 1024 && large.body.count > 4000)
        await s.submit(small)
        await s.submit(large)
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        let sent = t.sent
        #expect(sent.map(\.id) == ["small", "large"])
        #expect(sent[0].encoding == nil && sent[0].wire == small.body)
        #expect(sent[1].encoding == "gzip" && sent[1].wire.count < large.body.count / 10 && sent[1].body == large.body)
        for x in sent { #expect(PayloadSigner(secret: Secret("k")).verify(headerValue: x.signature, timestamp: Int64(x.timestamp)!, body: x.body)) }
        let d = s.deliveryStatus
        #expect(d.bytesSent == sent[0].wire.count + sent[1].wire.count && d.bytesUncompressed == small.body.count + large.body.count)

        let off = ScriptedTransport([])
        let plain = makeShipper(off, compressMinBytes: 0)
        await plain.submit(large)
        await plain.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        #expect(off.sent.map(\.encoding) == [nil])
    }

    /// A server that does not take gzip (415, or 400/401 from reading the compressed bytes as
    /// they are) gets the same payload again at once uncompressed, and every later one too; a
    /// payload the server refuses uncompressed as well is refused for its own reasons.
    @Test(arguments: [415, 400, 401])
    func aServerRefusingGzipGetsPlainBodies(status refusal: Int) async throws {
        let t = ScriptedTransport([.response(status: refusal, retryAfter: nil, date: nil)])
        let s = makeShipper(t, compressMinBytes: 100)
        await s.submit(try testPayload("a", pad: 2000))
        await s.submit(try testPayload("b", pad: 2000))
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        #expect(t.sent.map(\.id) == ["a", "a", "b"])
        #expect(t.sent.map(\.encoding) == ["gzip", nil, nil])
        #expect(s.deliveryStatus.payloadsSent == 2 && s.deliveryStatus.rejectedPayloads == 0)

        // Refused compressed and uncompressed alike: not a gzip problem, compression stays on.
        let both = ScriptedTransport([.response(status: 400, retryAfter: nil, date: nil), .response(status: 400, retryAfter: nil, date: nil)])
        let s2 = makeShipper(both, compressMinBytes: 100)
        await s2.submit(try testPayload("bad", pad: 2000))
        await s2.submit(try testPayload("good", pad: 2000))
        await s2.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        #expect(both.sent.map(\.id) == ["bad", "bad", "good"] && both.sent.map(\.encoding) == ["gzip", nil, "gzip"])
        #expect(s2.deliveryStatus.rejectedPayloads == 1 && s2.deliveryStatus.payloadsSent == 1)
    }

    @Test func clientErrorIsNotRetried() async throws {
        let t = ScriptedTransport([.response(status: 400, retryAfter: nil, date: nil)])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, status: status)
        await s.submit(try testPayload("bad"))
        await s.submit(try testPayload("good"))
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        #expect(t.sent.map(\.id) == ["bad", "good"])
        #expect(s.deliveryStatus.rejectedPayloads == 1 && s.deliveryStatus.payloadsSent == 1)
    }

    /// 413: the payload is too large for this server. It is trimmed (logs first) and sent again
    /// with the same payload_id, never dropped whole; metrics and alerts survive.
    @Test func tooLargeIsTrimmedAndSentAgainNotDropped() async throws {
        let t = ScriptedTransport([.response(status: 413, retryAfter: nil, date: nil)])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, status: status)
        var p = try PayloadCoding.decode(try testPayload("00000000-0000-4000-8000-000000000413").body)
        p.logs = (0..<400).map { LogEntry(container: "c", message: "line \($0) " + String(repeating: "x", count: 200), timestamp: "t") }
        p.localAlerts = ["CPU_SPIKE"]
        await s.submit(EncodedPayload(id: p.payloadID, body: try PayloadCoding.encode(p)))
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        let sent = t.sent
        #expect(sent.count == 2 && sent[0].id == sent[1].id)
        #expect(sent[1].body.count <= sent[0].body.count / 2)
        let second = try PayloadCoding.decode(sent[1].body)
        #expect(second.metrics == p.metrics && second.localAlerts == ["CPU_SPIKE"] && second.logs.count < 400)
        let snap = s.deliveryStatus
        #expect(snap.payloadsSent == 1 && snap.rejectedPayloads == 0)
        let report = status.report(nowUnix: 0)
        #expect(report.samples.contains { $0.name == "monitoring_agent_payload_trimmed_log_lines_total" && $0.value == Double(400 - second.logs.count) })
    }

    @Test func exhaustedPayloadWaitsForNextCycleInOrder() async throws {
        let t = ScriptedTransport([], then: .failure(reason: "refused"))
        let s = makeShipper(t, attempts: 3)
        await s.submit(try testPayload("a"))
        await s.submit(try testPayload("b"))
        await s.drain(until: ContinuousClock.now.advanced(by: .seconds(120)), retries: true, limit: 50)
        #expect(t.sent.map(\.id) == ["a", "a", "a"], "b waits behind a, oldest first")
        #expect(await s.queueLength == 2)
    }

    @Test func deadlineStopsRetries() async throws {
        let t = ScriptedTransport([], then: .response(status: 503, retryAfter: "30", date: nil))
        let s = makeShipper(t, attempts: 10)
        await s.submit(try testPayload("a"))
        let started = ContinuousClock.now
        await s.drain(until: started.advanced(by: .milliseconds(200)), retries: true, limit: 50)
        // Retry-After asks for 30 s; the cycle's deadline (0.2 s) wins. The bound is loose on
        // purpose (a loaded 2-core machine), and still far below the 30 s a bug would take.
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(await s.queueLength == 1)
    }

    @Test func boundedBufferDropsOldestAndCounts() async throws {
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(ScriptedTransport([]), capacity: 3, status: status)
        for i in 0..<5 { await s.submit(try testPayload("p\(i)")) }
        #expect(await s.queueLength == 3)
        #expect(s.deliveryStatus.droppedPayloads == 2 && s.deliveryStatus.queueLength == 3)
        var b = BoundedBuffer(capacity: 2)
        b.append(try testPayload("x")); b.append(try testPayload("y")); b.append(try testPayload("z"))
        #expect(b.first?.id == "y" && b.dropped == 1)
        b.removeFirst(ifID: "x")
        #expect(b.count == 2, "only the front payload with that id is removed")
    }

    @Test func gracefulShutdownFlushesWhatIsBuffered() async throws {
        // The first attempt fails, so the payload is still buffered when shutdown comes;
        // the shutdown flush then delivers it.
        let t = ScriptedTransport([.failure(reason: "down")])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, attempts: 1, status: status)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await s.run() }
                await s.submit(try testPayload("last"))
                try await eventually("first attempt") { !t.sent.isEmpty }
                #expect(await s.queueLength == 1)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(t.sent.map(\.id) == ["last", "last"], "one more attempt at shutdown")
        #expect(s.deliveryStatus.payloadsSent == 1 && s.deliveryStatus.queueLength == 0)
    }

    /// A shutdown during a request lets it finish: the payload is delivered once, not cut off and
    /// sent again (within the same second, with the same signature: a replay to the server).
    @Test func gracefulShutdownLetsTheRequestInFlightFinish() async throws {
        let t = ScriptedTransport([], latency: .milliseconds(400))
        let s = makeShipper(t)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await s.run() }
                await s.submit(try testPayload("in-flight"))
                try await eventually("request started") { !t.sent.isEmpty }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(t.sent.map(\.id) == ["in-flight"] && t.cancelled == 0, "sent once, not cut off")
        #expect(s.deliveryStatus.payloadsSent == 1 && s.deliveryStatus.queueLength == 0)
    }

    /// A backlog goes out continuously: a burst of --drain-batch, then --drain-rate a second (never
    /// faster), in order; a round whose deadline comes first ends `.paced` for the next to go on.
    @Test func aBacklogDrainsInOrderAtTheConfiguredRate() async throws {
        let t = ScriptedTransport([])
        let s = makeShipper(t, capacity: 100, drainBatch: 5, drainRate: 50)
        for i in 0..<30 { await s.submit(try testPayload("p\(i)")) }
        let started = ContinuousClock.now
        let end = await s.drain(until: started.advanced(by: .seconds(20)), retries: true, limit: .max)
        let elapsed = started.duration(to: .now)
        #expect(end == .empty && t.sent.map(\.id) == (0..<30).map { "p\($0)" })
        #expect(elapsed >= .milliseconds(480), "25 paced sends at 50/s take at least 0.5 s: \(elapsed)")

        let short = ScriptedTransport([])
        // 2 s for a burst of 5 and 25 more at 5/s (5 s): the deadline ends the round. The deadline
        // is long beside the burst, so a loaded machine that stalls the process still sends it.
        let s2 = makeShipper(short, capacity: 100, drainBatch: 5, drainRate: 5)
        for i in 0..<30 { await s2.submit(try testPayload("q\(i)")) }
        let end2 = await s2.drain(until: ContinuousClock.now.advanced(by: .seconds(2)), retries: true, limit: .max)
        #expect(end2 == .paced && short.sent.count >= 5 && short.sent.count < 30, "\(short.sent.count) sent")
    }

    /// 503 with Retry-After longer than a retry may wait: every send holds until it passes (no
    /// hammering, no flush at shutdown); the hold is in /healthz and /metrics.
    @Test func aServerAskingForAPauseHoldsEverySend() async throws {
        let t = ScriptedTransport([.response(status: 503, retryAfter: "30", date: nil)])
        let status = AgentStatus(startedAtUnix: 0)
        let s = makeShipper(t, status: status)
        await s.submit(try testPayload("a"))
        await s.submit(try testPayload("b"))
        let first = await s.drain(until: ContinuousClock.now.advanced(by: .seconds(5)), retries: true, limit: .max)
        guard case .held = first else { Issue.record("not held: \(first)"); return }
        let again = await s.drain(until: ContinuousClock.now.advanced(by: .seconds(5)), retries: true, limit: .max)
        guard case .held = again else { Issue.record("not held: \(again)"); return }
        #expect(t.sent.map(\.id) == ["a"], "one request, then nothing until the pause ends")
        #expect(s.deliveryStatus.serverHolds == 1 && s.deliveryStatus.heldUntilUnix != nil && s.deliveryStatus.queueLength == 2)
        let report = status.report(nowUnix: 0)
        #expect(report.samples.contains { $0.name == "monitoring_agent_server_holds_total" && $0.value == 1 })
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await s.run() }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(t.sent.count == 1, "no flush while the server asked for a pause")

        // A day asked for: held an hour at most.
        let day = ScriptedTransport([.response(status: 429, retryAfter: "86400", date: nil)])
        let s2 = makeShipper(day)
        await s2.submit(try testPayload("c"))
        let before = ContinuousClock.now
        guard case .held(let until) = await s2.drain(until: before.advanced(by: .seconds(5)), retries: true, limit: .max) else {
            Issue.record("not held"); return
        }
        #expect(until <= before.advanced(by: .seconds(3_601)) && until >= before.advanced(by: .seconds(3_599)))
    }

    /// The shipper's part of /healthz and /metrics.
    @Test func deliveryStatusReportsItsFieldsAndSeries() {
        var d = DeliveryStatus()
        d.lastSendOKUnix = 1_700_000_000
        d.payloadsSent = 3
        d.sendFailures = ["transport": 2]
        d.queueError = "cannot write /q: read-only file system"
        var r = StatusReport()
        d.report(into: &r)
        #expect(r.health["last_send_ok"] == .string("2023-11-14T22:13:20Z") && r.health["clock_skew_seconds"] == .null)
        #expect(r.health["queue_error"] == .string("cannot write /q: read-only file system"))
        #expect(r.samples.contains { $0.name == "monitoring_agent_send_failures_total" && $0.labels.first?.value == "transport" && $0.value == 2 })
        #expect(r.samples.contains { $0.name == "monitoring_agent_queue_disk_available" && $0.value == 0 })
        #expect(!r.samples.contains { $0.name == "monitoring_agent_clock_skew_seconds" }, "no skew series before a Date was seen")
    }
}
