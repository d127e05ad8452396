/// Why a receiver refused a request, with the HTTP status to answer.
public struct IngestRejection: Error, Sendable, Equatable {
    /// What failed, as a fixed word for counting (the reason is the text the agent is told).
    public enum Kind: String, Sendable, CaseIterable {
        case missingTimestamp = "missing_timestamp"
        case badTimestamp = "bad_timestamp"
        case clockSkew = "clock_skew"
        case missingSignature = "missing_signature"
        case badSignature = "bad_signature"
        case badPayload = "bad_payload"
        case badPayloadID = "bad_payload_id"

        /// 401 for what the signature and its timestamp decide, 400 for a body that is no payload.
        public var status: Int {
            switch self {
            case .badPayload, .badPayloadID: 400
            default: 401
            }
        }
    }

    public let kind: Kind
    public let reason: String
    public var status: Int { kind.status }
    public init(_ kind: Kind, reason: String) { self.kind = kind; self.reason = reason }
}

/// Checks what a receiver gets: timestamp header present and within the skew window, signature
/// valid (constant-time), body a payload. Pure; the HTTP server around it only moves bytes.
public struct IngestVerifier: Sendable {
    /// Every current key, each tried in turn (at most `Keyring.maxKeys` plus the shared secret);
    /// the key a request names (`X-Agent-Key-Id`) first.
    public let keys: [VerifyingKey]
    /// Largest accepted |now - X-Agent-Timestamp|, seconds.
    public let maxSkewSeconds: Int64

    public init(secret: Secret, maxSkewSeconds: Int64) {
        self.init(keys: [VerifyingKey(id: nil, secret: secret)], maxSkewSeconds: maxSkewSeconds)
    }

    public init(keys: [VerifyingKey], maxSkewSeconds: Int64) {
        self.keys = keys
        self.maxSkewSeconds = maxSkewSeconds
    }

    /// `timestamp` and `signature` are the raw header values (nil when absent).
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Int64) -> Result<Payload, IngestRejection> {
        verify(timestamp: timestamp, signature: signature, keyID: nil, body: body, now: now).map(\.payload)
    }

    /// As `verify`, with the request's `X-Agent-Key-Id` (nil when absent); on success also the id
    /// of the key that verified it (nil for the shared secret).
    public func verify(timestamp: String?, signature: String?, keyID: String?, body: [UInt8], now: Int64)
        -> Result<(payload: Payload, keyID: String?), IngestRejection> {
        guard let timestamp, !timestamp.isEmpty else {
            return .failure(.init(.missingTimestamp, reason: "missing \(PayloadSigner.timestampHeader) header"))
        }
        guard let ts = Self.unixSeconds(timestamp) else {
            return .failure(.init(.badTimestamp, reason: "\(PayloadSigner.timestampHeader) is not unix seconds"))
        }
        // Both sides are bounded (the header by `unixSeconds`, `now` by the host clock), and the
        // difference is taken with overflow reported, so no header value can trap here.
        let (difference, overflow) = ts.subtractingReportingOverflow(now)
        let skew = overflow ? UInt64.max : difference.magnitude
        guard skew <= UInt64(max(0, maxSkewSeconds)) else {
            return .failure(.init(.clockSkew, reason: "timestamp outside the allowed skew of \(maxSkewSeconds)s"))
        }
        guard let signature, !signature.isEmpty else {
            return .failure(.init(.missingSignature, reason: "missing \(PayloadSigner.signatureHeader) header"))
        }
        // The named key is tried first, then the others: the id orders the keys, never widens
        // them (a request naming none is checked against each anyway). An agent whose secret file
        // was rotated and re-read on SIGHUP names its old key until it restarts, and is not
        // refused for it; what is stored is the key that verified.
        var candidates = keys
        if let keyID, let named = keys.firstIndex(where: { $0.id == keyID }), named > 0 {
            candidates.swapAt(0, named)
        }
        guard let key = candidates.first(where: { $0.signer.verify(headerValue: signature, timestamp: ts, body: body) }) else {
            return .failure(.init(.badSignature, reason: "signature mismatch"))
        }
        let payload: Payload
        do {
            payload = try PayloadCoding.decode(body)
        } catch {
            return .failure(.init(.badPayload, reason: "body is not a valid payload: \(error)"))
        }
        // Stores deduplicate on payload_id: one exact spelling, nothing that needs escaping.
        guard PayloadID.isValid(payload.payloadID) else {
            return .failure(.init(.badPayloadID, reason: "payload_id must be a lowercase UUID"))
        }
        return .success((payload, key.id))
    }

    /// Unix seconds as the agent sends them: 1 to 12 ASCII digits, nothing else (no sign, no
    /// spaces, no `+`, no fraction). Anything longer is no time a clock can show for 30,000 years.
    public static func unixSeconds(_ text: String) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for c in text.utf8 {
            guard c >= 48, c <= 57, digits < 12 else { return nil }
            value = value * 10 + Int64(c - 48)
            digits += 1
        }
        return digits == 0 ? nil : value
    }
}
