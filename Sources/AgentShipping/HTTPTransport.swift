import AgentCore
import AsyncHTTPClient
import NIOCore
import NIOSSL

/// POSTs payloads with async-http-client over http or https. Certificates are verified against
/// the system roots plus, when given, a private CA from `--ca-file`.
public final class HTTPTransport: PayloadTransport {
    let client: HTTPClient
    let url: String
    let requestTimeout: TimeAmount
    /// Responses are read and discarded up to this size, so a chatty server cannot balloon memory.
    static let maxResponseBytes = 64 << 10

    public init(url: String, caFile: String?, timeoutSeconds: Double) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            } catch {
                throw AgentError(.invalidConfiguration, "cannot load CA certificates", input: caFile, cause: error)
            }
        }
        let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: min(timeout, .seconds(5)), read: timeout),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.url = url
        self.requestTimeout = timeout
    }

    public func post(body: [UInt8], headers: [(name: String, value: String)]) async -> TransportResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for h in headers { request.headers.add(name: h.name, value: h.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: requestTimeout)
            // Drain (bounded) so the connection can be reused.
            _ = try? await response.body.collect(upTo: Self.maxResponseBytes)
            return .response(status: Int(response.status.code),
                             retryAfter: response.headers.first(name: "Retry-After"),
                             date: response.headers.first(name: "Date"))
        } catch {
            return .failure(reason: Self.describe(error))
        }
    }

    public func close() async {
        try? await client.shutdown()
    }

    /// A short reason for logs: the error's own text, never the URL (it may hold credentials).
    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .connectTimeout { return "connect timeout" }
            if e == .deadlineExceeded || e == .readTimeout { return "request timeout" }
            if e == .remoteConnectionClosed { return "connection closed by server" }
            if e == .cancelled { return "cancelled" }
        }
        if error is NIOSSLError || error is BoringSSLError { return "TLS: \(error)" }
        return String(describing: error)
    }
}
