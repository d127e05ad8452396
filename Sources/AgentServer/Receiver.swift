import AgentCore
import AgentPlatform
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Synchronization

/// Settings of `monitoring-agent receive`.
public struct ReceiverConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The keys a request may be signed with (the shared secret, keyring entries).
    public var keys: [VerifyingKey]
    /// Largest accepted clock difference between the agent's timestamp and ours, seconds.
    public var maxSkewSeconds: Int64
    /// Bodies above this many bytes get 413.
    public var bodyLimit: Int
    /// Connection cap and request deadlines.
    public var limits: ConnectionLimits = .receiver
    /// Requests a client address may fail before verification per minute (`FailureLimiter`); 0 is off.
    public var failureLimit = 0

    public init(host: String, port: Int, secret: Secret, maxSkewSeconds: Int64 = 300, bodyLimit: Int = 4 << 20) {
        self.init(host: host, port: port, keys: [VerifyingKey(id: nil, secret: secret)], maxSkewSeconds: maxSkewSeconds, bodyLimit: bodyLimit)
    }

    public init(host: String, port: Int, keys: [VerifyingKey], maxSkewSeconds: Int64 = 300, bodyLimit: Int = 4 << 20) {
        self.host = host; self.port = port; self.keys = keys
        self.maxSkewSeconds = maxSkewSeconds; self.bodyLimit = bodyLimit
    }
}

/// The receiver's current keys, replaced whole on SIGHUP (a keyring file read again); a request
/// is verified against the set current when it arrives.
public final class ReceiverKeys: Sendable {
    private let keys: Mutex<[VerifyingKey]>

    public init(_ keys: [VerifyingKey]) { self.keys = Mutex(keys) }

    public var current: [VerifyingKey] { keys.withLock { $0 } }

    public func replace(_ new: [VerifyingKey]) { keys.withLock { $0 = new } }
}

/// What a sink did with a verified payload.
public enum SinkResult: Sendable, Equatable {
    case stored
    /// Already seen (same payload_id): answered 200, not stored or printed again.
    case duplicate
    /// Older than the store keeps anything: answered 200 (delivered, nothing to retry), not stored.
    case expired
    /// Never storable as sent (a 4xx the agent does not retry), with the reason it is told.
    case refused(status: Int, reason: String)
}

/// Where verified payloads go. The default prints each one as a JSON line on stdout.
public protocol PayloadSink: Sendable {
    /// Whether the sink knows every payload_id it kept: then a replayed request is harmless (a
    /// duplicate, answered 200 and not kept) and the receiver does not refuse it.
    var deduplicates: Bool { get }
    /// Throws when the payload could not be kept; the receiver then answers 503 so the agent retries.
    func accept(_ payload: Payload, body: [UInt8]) async throws -> SinkResult
    /// As `accept`, with the id of the keyring key that verified the payload (nil: the shared secret).
    func accept(_ payload: Payload, body: [UInt8], keyID: String?) async throws -> SinkResult
}

extension PayloadSink {
    public func accept(_ payload: Payload, body: [UInt8], keyID: String?) async throws -> SinkResult {
        try await accept(payload, body: body)
    }
}

/// The receiver: decodes a gzip body (`Content-Encoding: gzip`, the decoded size held to the body
/// limit), verifies signature and timestamp over the decoded body, answers 401 with a reason, 409
/// for a replayed request (same signature within the skew window) when the sink cannot tell
/// duplicates itself (with a store a replay is a duplicate: 200 `{"duplicate":true}`), 413 above the body limit
/// (before or after decoding), 415 for another encoding, 400 for a body that is not a payload or
/// a broken gzip stream, and hands verified payloads to the sink (503 if it cannot keep them).
public func makeReceiver(configuration: ReceiverConfiguration, sink: any PayloadSink,
                         wallClock: @escaping @Sendable () -> Int64, logger: Logger,
                         onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                         routes: (Router<ReceiverRequestContext>) -> Void = { _ in },
                         keys: ReceiverKeys? = nil, stats: ReceiverStats? = nil, tls: ServerTLS? = nil) -> some ApplicationProtocol {
    let keys = keys ?? ReceiverKeys(configuration.keys)
    let skew = configuration.maxSkewSeconds
    let limit = configuration.bodyLimit
    let tsName = HTTPField.Name(PayloadSigner.timestampHeader)!
    let sigName = HTTPField.Name(PayloadSigner.signatureHeader)!
    let keyName = HTTPField.Name(Keyring.keyIDHeader)!
    let decodedTooLarge = "decoded body larger than \(limit) bytes"
    let replays = Mutex(ReplayGuard(windowSeconds: configuration.maxSkewSeconds))
    let failures = Mutex(FailureLimiter(limit: configuration.failureLimit))
    // Answers that mean the request never showed it came from a key holder: they count against
    // the client's address.
    let unverified: Set<String> = Set(IngestRejection.Kind.allCases.filter { $0.status == 401 }.map(\.rawValue))
        .union(["too_large", "bad_gzip", "unsupported_encoding"])
    // Every answer with the fixed word it is counted under (`stats`).
    let answer: @Sendable (Request) async -> (Response, String) = { request in
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            return (.json(errorBody("body larger than \(limit) bytes"), status: .contentTooLarge), "too_large")
        }
        stats?.read(bodyBytes: buffer.readableBytes)
        var body = Array(buffer.readableBytesView)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do throws(Gzip.Failure) { body = try Gzip.decompress(body, limit: limit) } catch {
                let tooLarge = error != .corrupt
                logger.notice("rejected payload", metadata: ["http.status": "\(tooLarge ? 413 : 400)", "reason": "\(tooLarge ? decodedTooLarge : "broken gzip body")"])
                return tooLarge ? (.json(errorBody(decodedTooLarge), status: .contentTooLarge), "too_large")
                    : (.json(errorBody("broken gzip body"), status: .badRequest), "bad_gzip")
            }
        default:
            return (.json(errorBody("unsupported Content-Encoding (gzip and identity are accepted)"), status: .unsupportedMediaType),
                    "unsupported_encoding")
        }
        let verifier = IngestVerifier(keys: keys.current, maxSkewSeconds: skew)
        switch verifier.verify(timestamp: request.headers[tsName], signature: request.headers[sigName], keyID: request.headers[keyName],
                               body: body, now: wallClock()) {
        case .failure(let rejection):
            logger.notice("rejected payload", metadata: ["http.status": "\(rejection.status)", "reason": "\(rejection.reason)"])
            return (.json(errorBody(rejection.reason), status: .init(code: rejection.status)), rejection.kind.rawValue)
        case .success(let (payload, keyID)):
            stats?.verified(keyID: keyID)
            let now = wallClock()
            let signature = request.headers[sigName] ?? ""
            let timestamp = Int64(request.headers[tsName] ?? "") ?? now
            guard sink.deduplicates || replays.withLock({ $0.admit(signature: signature, timestamp: timestamp, now: now) }) else {
                logger.notice("rejected replayed request", metadata: ["http.status": "409", "payload_id": "\(payload.payloadID)"])
                return (.json(errorBody("replayed request: this signature was already used"), status: .conflict), "replayed")
            }
            let started = ContinuousClock.now
            defer { stats?.stored(after: .now - started) }
            do {
                switch try await sink.accept(payload, body: body, keyID: keyID) {
                case .stored: return (.json(Array(#"{"status":"ok"}"#.utf8)), "stored")
                case .duplicate: return (.json(Array(#"{"duplicate":true,"status":"duplicate"}"#.utf8)), "duplicate")
                case .expired:
                    logger.notice("payload older than the retention, not stored", metadata: ["payload_id": "\(payload.payloadID)",
                                                                                              "timestamp": "\(payload.timestamp)"])
                    return (.json(Array(#"{"expired":true,"status":"expired"}"#.utf8)), "expired")
                case .refused(let status, let reason):
                    logger.notice("rejected payload", metadata: ["http.status": "\(status)", "reason": "\(reason)",
                                                                 "payload_id": "\(payload.payloadID)"])
                    return (.json(errorBody(reason), status: .init(code: status)), "refused")
                }
            } catch {
                logger.error("cannot store payload", metadata: ["error": "\(error)"])
                return (.json(errorBody("cannot store payload"), status: .serviceUnavailable), "store_failed")
            }
        }
    }
    let handler: @Sendable (Request, ReceiverRequestContext) async throws -> Response = { request, context in
        let address = context.remoteAddress ?? ""
        if let wait = failures.withLock({ $0.refusal(address, now: wallClock()) }) {
            stats?.answered(status: 429, outcome: "limited")
            var response = Response.json(errorBody("too many failed requests from this address; retry after \(wait) s"), status: .tooManyRequests)
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
        let (response, outcome) = await answer(request)
        stats?.answered(status: response.status.code, outcome: outcome)
        if unverified.contains(outcome), failures.withLock({ $0.failed(address, now: wallClock()) }) {
            logger.warning("client refused for failed requests", metadata: ["client": "\(address)", "limit": "\(configuration.failureLimit)"])
        }
        return response
    }
    let router = Router(context: ReceiverRequestContext.self)
    router.post("/", use: handler)
    router.post("ingest", use: handler)
    routes(router)
    let limits = configuration.limits
    let channel = limits.channelConfiguration
    let server: HTTPServerBuilder = if let tls {
        HTTPServerBuilder { responder in ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: channel), tls: tls) }
    } else {
        .http1(configuration: channel)
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                             availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

func errorBody(_ reason: String) -> [UInt8] {
    ReportCoding.encode(["error": reason])
}

/// The receiver's request context: Hummingbird's, plus the client's address (the peer of the TCP
/// connection; behind an HTTP proxy, the proxy's), which the failure limit counts by.
public struct ReceiverRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
