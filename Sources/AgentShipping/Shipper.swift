import AgentCore
import AgentPlatform
import Logging
import ServiceLifecycle

/// Settings of the shipper, validated by the configuration resolver.
public struct ShipperConfiguration: Sendable {
    /// Retry schedule within one cycle.
    public var policy: RetryPolicy
    /// Payloads held in memory when the disk queue is unavailable (or disabled).
    public var capacity: Int
    /// The write-ahead disk queue; nil keeps payloads in memory only.
    public var disk: DiskQueueConfiguration?
    /// A backlog is sent continuously, paced by a token bucket: up to `drainBatch` payloads back
    /// to back, then `drainRate` a second, so an agent back after an outage neither floods the
    /// server nor takes hours to catch up.
    public var drainBatch: Int
    public var drainRate: Double
    /// How long one delivery round may take (a backlog goes on in the next round at once).
    public var cycleBudget: Duration
    /// How long the final flush on shutdown may take.
    public var shutdownBudget: Duration
    /// Bodies of at least this many bytes are sent gzip-compressed (0: never).
    public var compressMinBytes: Int

    public init(policy: RetryPolicy = RetryPolicy(), capacity: Int = 1000, disk: DiskQueueConfiguration? = nil,
                drainBatch: Int = 50, drainRate: Double = 20, cycleBudget: Duration = .seconds(30), shutdownBudget: Duration = .seconds(3),
                compressMinBytes: Int = 1024) {
        self.policy = policy
        self.capacity = capacity
        self.disk = disk
        self.drainBatch = drainBatch
        self.drainRate = drainRate
        self.cycleBudget = cycleBudget
        self.shutdownBudget = shutdownBudget
        self.compressMinBytes = compressMinBytes
    }
}

/// Delivers payloads oldest first: signs each attempt with the current time, retries with
/// capped exponential backoff and jitter within a cycle, keeps undelivered payloads in a
/// bounded buffer for the next cycle, and flushes once more on graceful shutdown.
public actor Shipper<C: Clock>: Service where C.Duration == Duration {
    private let transport: any PayloadTransport
    private var signer: PayloadSigner
    /// Sent as `X-Agent-Key-Id` with every request when set.
    private var keyID: String?
    private let configuration: ShipperConfiguration
    /// This shipper's part of the agent's status, and the payload budget's cut counts.
    private let delivery: StatusCell<DeliveryStatus>
    private let trims: StatusCell<TrimStatus>

    /// The delivery figures now (queue length, sends, failures).
    public nonisolated var deliveryStatus: DeliveryStatus { delivery.value }
    private let clock: C
    private let wallClock: @Sendable () -> Int64
    private let random: @Sendable () -> Double
    private let logger: Logger

    private let queue: DeliveryQueue
    private var skewWarned = false
    /// The server did not take a gzip body but took it uncompressed: bodies go uncompressed from then on.
    private var compressionRefused = false
    /// Send pacing (token bucket) and the time before which the server asked not to be sent to
    /// (`Retry-After` on 429 or 503).
    private var tokens: Double
    private var tokensAt: C.Instant?
    private var holdUntil: C.Instant?
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(transport: any PayloadTransport, signer: PayloadSigner, keyID: String? = nil, configuration: ShipperConfiguration,
                status: AgentStatus, trims: StatusCell<TrimStatus>? = nil, clock: C,
                wallClock: @escaping @Sendable () -> Int64, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                logger: Logger) {
        self.transport = transport
        self.signer = signer
        self.keyID = keyID
        self.configuration = configuration
        self.delivery = status.register(DeliveryStatus())
        self.trims = trims ?? status.register(TrimStatus())
        self.clock = clock
        self.wallClock = wallClock
        self.random = random
        self.logger = logger
        self.queue = DeliveryQueue(disk: configuration.disk, memoryCapacity: configuration.capacity, logger: logger)
        self.tokens = Double(max(1, configuration.drainBatch))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let n = queue.count, bytes = queue.byteCount, corrupt = queue.corruptCount, error = queue.diskError
        delivery.update { $0.queueLength = n; $0.queueBytes = bytes; $0.queueCorruptRecords = corrupt; $0.queueError = error }
        if n > 0 { wake.yield() } // a backlog from before a restart is delivered without waiting for new data
    }

    /// Queues a payload (write-ahead: on disk before any send) and wakes the delivery loop.
    /// Never blocks on the network; a full queue drops its oldest, never the caller.
    public func submit(_ payload: EncodedPayload) {
        let durable = queue.append(payload)
        logger.debug("payload queued", metadata: ["payload_id": "\(payload.id)", "durable": "\(durable)"])
        publishQueue()
        wake.yield()
    }

    public var queueLength: Int { queue.count }

    /// Signs every later attempt with `signer` (a secret rotated on SIGHUP), sent as `keyID`.
    public func rotate(signer: PayloadSigner, keyID: String?) {
        self.signer = signer
        self.keyID = keyID
    }

    public func run() async throws {
        // One task for the service's life, cancelled by a graceful shutdown (the stream then
        // ends and a delivery in progress stops); not a merged sequence and a task group per wake-up.
        await cancelWhenGracefulShutdown { [self, wakeups] in
            for await _ in wakeups {
                // A backlog drains continuously (paced), not a batch per cycle; a payload that
                // exhausts its attempts waits for the next wake-up (the next payload built).
                drainLoop: while !Task.isCancelled {
                    let deadline = clock.now.advanced(by: configuration.cycleBudget)
                    switch await drain(until: deadline, retries: true, limit: .max) {
                    case .empty, .stalled: break drainLoop
                    case .paced: continue
                    case .held(let until):
                        do { try await clock.sleep(until: until, tolerance: nil) } catch { break drainLoop }
                    }
                }
            }
        }
        // Graceful shutdown: one last attempt per waiting payload, bounded in time; none while
        // the server asked to be left alone (the payloads stay queued for the next start).
        if queue.count > 0, !isHeld() {
            logger.info("flushing before exit", metadata: ["queue_length": "\(queue.count)"])
            let budget = configuration.shutdownBudget
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.drain(until: self.clock.now.advanced(by: budget), retries: false, limit: .max) }
                group.addTask { try? await self.clock.sleep(for: budget) }
                await group.next()
                group.cancelAll()
            }
        }
        wake.finish()
        await transport.close()
    }

    /// Why a drain round ended.
    enum DrainEnd: Equatable {
        case empty
        /// A payload exhausted its attempts: it and everything after it wait for the next wake-up.
        case stalled
        /// The round's deadline or `limit` came first: more to send now.
        case paced
        /// The server asked not to be sent to before this instant.
        case held(until: C.Instant)
    }

    /// Sends queued payloads oldest first, paced by the token bucket, until the queue is empty,
    /// `limit` were delivered, the deadline passes, the server asks for a pause, or a payload
    /// exhausts its attempts.
    @discardableResult
    func drain(until deadline: C.Instant, retries: Bool, limit: Int) async -> DrainEnd {
        var delivered = 0
        while let next = queue.first(), !Task.isCancelled {
            if let until = holdUntil, clock.now < until { return .held(until: until) }
            guard delivered < limit, await pace(until: deadline) else { return .paced }
            switch await deliver(next, until: deadline, retries: retries) {
            case .done:
                queue.removeFirst(ifID: next.id)
                delivered += 1
                let now = wallClock()
                delivery.update { $0.payloadsSent += 1; $0.lastSendOKUnix = now }
            case .reject:
                queue.removeFirst(ifID: next.id)
                delivery.update { $0.rejectedPayloads += 1 }
            case .shrink:
                queue.removeFirst(ifID: next.id)
                if let smaller = Self.halved(next) {
                    // Too large for this server: the same payload (same payload_id) with half the
                    // bytes, cut as the budget cuts (logs, then events, then alerts summarised),
                    // queued again at the back. Metrics and alerts are never what goes.
                    _ = queue.append(smaller.payload)
                    let trim = smaller.trim
                    trims.update { $0.count(trim) }
                    logger.warning("payload too large for the server (413): trimmed and queued again", metadata: [
                        "payload_id": "\(next.id)", "bytes": "\(next.body.count)", "now_bytes": "\(smaller.payload.body.count)"])
                } else {
                    delivery.update { $0.rejectedPayloads += 1 }
                }
            case .keep, .retry:
                publishQueue()
                if let until = holdUntil, clock.now < until { return .held(until: until) }
                return .stalled
            }
            publishQueue()
        }
        return queue.count == 0 ? .empty : .stalled
    }

    /// Takes a token for one send, waiting for it when that fits before `deadline`; false when it
    /// does not (the round ends and the next one goes on).
    func pace(until deadline: C.Instant) async -> Bool {
        let rate = configuration.drainRate, burst = Double(max(1, configuration.drainBatch))
        let now = clock.now
        if let at = tokensAt { tokens = min(burst, tokens + at.duration(to: now).inSeconds * rate) }
        tokensAt = now
        if tokens >= 1 { tokens -= 1; return true }
        let wait = (1 - tokens) / rate
        guard deadlineAllows(wait, deadline) else { return false }
        do { try await clock.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) } catch { return false }
        tokens = 0
        tokensAt = clock.now
        return true
    }

    private func isHeld() -> Bool {
        if let until = holdUntil { return clock.now < until }
        return false
    }

    /// The longest pause a server's Retry-After can impose: one bogus header (a proxy's) must not
    /// silence the agent for a day while its queue fills.
    static var maxHoldSeconds: Double { 3_600 }

    /// The server answered 429 or 503 with a Retry-After: nothing is sent before it passes.
    private func hold(seconds requested: Double) {
        let seconds = min(requested, Self.maxHoldSeconds)
        let until = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        if holdUntil.map({ $0 < until }) ?? true { holdUntil = until }
        let wallUntil = wallClock() + Int64(seconds.rounded(.up))
        delivery.update { $0.serverHolds += 1; $0.heldUntilUnix = wallUntil }
    }

    /// One request, run to its end even when delivery is cancelled (a graceful shutdown): a request
    /// cut off mid-flight may already be stored by the server, and the shutdown flush would send it
    /// again, within the same second the same signature, a replay. Past `shutdownBudget` after the
    /// cancellation the request is cancelled too, so a server that never answers cannot hold the
    /// agent's exit.
    private func postToTheEnd(body: [UInt8], headers: [(name: String, value: String)]) async -> TransportResult {
        let transport = transport, budget = configuration.shutdownBudget
        let request = Task { await transport.post(body: body, headers: headers) }
        return await withTaskCancellationHandler {
            await request.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: budget)
                request.cancel()
            }
        }
    }

    /// Attempts one payload with retries. Returns `.done`, `.reject`, `.shrink` or `.keep`.
    func deliver(_ payload: EncodedPayload, until deadline: C.Instant, retries: Bool) async -> RetryDecision {
        var attempt = 0
        // Compressed once for every attempt; the signature always covers the body as built, so a
        // receiver verifies after decoding.
        var wire = wireBody(payload.body)
        // The status a gzip body got when it was sent again uncompressed.
        var plainAfterRefusal: Int?
        while true {
            let timestamp = wallClock()
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json"),
                (PayloadSigner.timestampHeader, String(timestamp)),
                (PayloadSigner.signatureHeader, signer.headerValue(timestamp: timestamp, body: payload.body)),
            ]
            if wire != nil { headers.append(("Content-Encoding", "gzip")) }
            if let keyID { headers.append((Keyring.keyIDHeader, keyID)) }
            let sent = wire ?? payload.body
            let result = await postToTheEnd(body: sent, headers: headers)
            delivery.update { $0.bytesSent += sent.count; $0.bytesUncompressed += payload.body.count }
            if case .response(let code, _, _) = result {
                if wire != nil, Self.mayMeanNoGzip(code) {
                    // A server that does not decode gzip answers 415, or 400/401 when it reads or
                    // verifies the compressed bytes as they are: the same payload again at once,
                    // uncompressed, before judging it.
                    plainAfterRefusal = code
                    wire = nil
                    continue
                }
                if let refused = plainAfterRefusal, (200..<300).contains(code) {
                    compressionRefused = true
                    logger.warning("the server did not take a gzip body but took it uncompressed: sending uncompressed from now on",
                                   metadata: ["payload_id": "\(payload.id)", "http.status": "\(refused)"])
                }
                plainAfterRefusal = nil
            }
            let outcome: SendOutcome
            let reason: String
            switch result {
            case .response(let code, let retryAfter, let date):
                let wait = RetryPolicy.parseRetryAfter(retryAfter, now: timestamp)
                outcome = .status(code, retryAfterSeconds: wait)
                noteClock(serverDate: date, localNow: timestamp)
                reason = "status_\(code)"
                if code == 429 || code == 503, let wait, wait > 0 {
                    hold(seconds: wait)
                    if wait > configuration.policy.maxDelay || !deadlineAllows(wait, deadline) {
                        // Longer than a retry within the round may wait: the whole queue waits.
                        delivery.update { $0.sendFailures[reason, default: 0] += 1 }
                        logFailure(payload, reason: reason, result: result, attempt: attempt,
                                   next: "server asked to wait \(formatSeconds(wait)): holding every send until then")
                        return .keep
                    }
                }
            case .failure(let why):
                outcome = .transportError
                reason = "transport"
                logger.debug("transport error detail", metadata: ["error": "\(why)"])
            }
            var decision = configuration.policy.decide(outcome, attempt: attempt, unitRandom: random())
            if decision == .done { return .done }
            delivery.update { $0.sendFailures[reason, default: 0] += 1 }
            if !retries, case .retry = decision { decision = .keep }
            if case .retry(let delay) = decision, deadlineAllows(delay, deadline) {
                logFailure(payload, reason: reason, result: result, attempt: attempt, next: "retry in \(formatSeconds(delay))")
                do { try await clock.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { return .keep }
                attempt += 1
                delivery.update { $0.retries += 1 }
                continue
            }
            if decision == .reject {
                logFailure(payload, reason: reason, result: result, attempt: attempt, next: "rejected by server, not retried")
                return .reject
            }
            if decision == .shrink {
                logFailure(payload, reason: reason, result: result, attempt: attempt, next: "too large: trimming")
                return .shrink
            }
            logFailure(payload, reason: reason, result: result, attempt: attempt, next: "kept for next cycle")
            return .keep
        }
    }

    /// Statuses by which a server that does not take gzip refuses a compressed body.
    static func mayMeanNoGzip(_ code: Int) -> Bool { code == 400 || code == 401 || code == 415 }

    /// The gzip body to send for `body`, or nil to send it as it is (compression off or refused,
    /// below the size, or no smaller compressed).
    func wireBody(_ body: [UInt8]) -> [UInt8]? {
        let min = configuration.compressMinBytes
        guard min > 0, !compressionRefused, body.count >= min else { return nil }
        let gz = Gzip.compress(body)
        return gz.count < body.count ? gz : nil
    }

    /// The payload re-fitted to half its size, or nil when that cuts nothing (nothing but
    /// metrics, identity and the alert summary left: the server's limit is below any payload).
    static func halved(_ p: EncodedPayload) -> (payload: EncodedPayload, trim: PayloadTrim)? {
        guard let decoded = try? PayloadCoding.decode(p.body),
              let (body, trim) = try? PayloadBudget.fit(decoded, maxBytes: p.body.count / 2),
              !trim.isEmpty, body.count < p.body.count else { return nil }
        return (EncodedPayload(id: p.id, body: body), trim)
    }

    private func deadlineAllows(_ delay: Double, _ deadline: C.Instant) -> Bool {
        clock.now.advanced(by: .milliseconds(Int64(delay * 1000))) < deadline
    }

    private func logFailure(_ p: EncodedPayload, reason: String, result: TransportResult, attempt: Int, next: String) {
        var metadata: Logger.Metadata = ["payload_id": "\(p.id)", "attempt": "\(attempt + 1)", "next": "\(next)"]
        switch result {
        case .response(let code, _, _): metadata["http.status"] = "\(code)"
        case .failure(let why): metadata["error"] = "\(why)"
        }
        logger.warning("send failed", metadata: metadata)
    }

    private func publishQueue() {
        let n = queue.count, bytes = queue.byteCount, dropped = queue.droppedCount
        let corrupt = queue.corruptCount, error = queue.diskError
        delivery.update {
            $0.queueLength = n; $0.queueBytes = bytes; $0.droppedPayloads = dropped
            $0.queueCorruptRecords = corrupt; $0.queueError = error
        }
    }

    /// Compares the server's `Date` with our clock; warns once when they drift apart by more than 30 s.
    private func noteClock(serverDate: String?, localNow: Int64) {
        guard let serverDate, let server = HTTPDate.parse(serverDate) else { return }
        let skew = localNow - server
        delivery.update { $0.clockSkewSeconds = skew }
        if abs(skew) > 30 {
            if !skewWarned {
                logger.warning("clock skew with the server above 30 s; payloads may be refused", metadata: ["clock_skew_seconds": "\(skew)"])
                skewWarned = true
            }
        } else {
            skewWarned = false
        }
    }

    private func formatSeconds(_ s: Double) -> String {
        String((s * 100).rounded() / 100) + "s"
    }
}
