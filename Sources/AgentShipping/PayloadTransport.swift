import AgentCore

/// What one POST produced: a response (status and the headers the shipper uses) or a
/// transport failure with a short reason safe to log.
public enum TransportResult: Sendable, Equatable {
    case response(status: Int, retryAfter: String?, date: String?)
    case failure(reason: String)
}

/// Delivers one signed body. The real one is `HTTPTransport`; tests substitute their own.
public protocol PayloadTransport: Sendable {
    func post(body: [UInt8], headers: [(name: String, value: String)]) async -> TransportResult
    func close() async
}
