/// Why a receiver refused a request, with the HTTP status to answer.
public struct IngestRejection: Error, Sendable, Equatable {
    public let status: Int
    public let reason: String
    public init(status: Int, reason: String) { self.status = status; self.reason = reason }
}

/// Checks what a receiver gets: timestamp header present and within the skew window, signature
/// valid (constant-time), body a payload. Pure; the HTTP server around it only moves bytes.
public struct IngestVerifier: Sendable {
    public let signer: PayloadSigner
    /// Largest accepted |now - X-Agent-Timestamp|, seconds.
    public let maxSkewSeconds: Int64

    public init(secret: Secret, maxSkewSeconds: Int64) {
        self.signer = PayloadSigner(secret: secret)
        self.maxSkewSeconds = maxSkewSeconds
    }

    /// `timestamp` and `signature` are the raw header values (nil when absent).
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Int64) -> Result<Payload, IngestRejection> {
        guard let timestamp, !timestamp.isEmpty else {
            return .failure(.init(status: 401, reason: "missing \(PayloadSigner.timestampHeader) header"))
        }
        guard let ts = Int64(timestamp) else {
            return .failure(.init(status: 401, reason: "\(PayloadSigner.timestampHeader) is not unix seconds"))
        }
        let skew = ts > now ? ts - now : now - ts
        guard skew <= maxSkewSeconds else {
            return .failure(.init(status: 401, reason: "timestamp outside the allowed skew of \(maxSkewSeconds)s (off by \(skew)s)"))
        }
        guard let signature, !signature.isEmpty else {
            return .failure(.init(status: 401, reason: "missing \(PayloadSigner.signatureHeader) header"))
        }
        guard signer.verify(headerValue: signature, timestamp: ts, body: body) else {
            return .failure(.init(status: 401, reason: "signature mismatch"))
        }
        do {
            return .success(try PayloadCoding.decode(body))
        } catch {
            return .failure(.init(status: 400, reason: "body is not a valid payload"))
        }
    }
}
