import AgentCore
import AgentPlatform
import AsyncHTTPClient
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Errors talking to the Docker Engine API, with what an operator needs to act on them.
public enum DockerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Socket missing, refused, permission denied, or the connection dropped.
    case unavailable(String)
    /// The daemon answered with an error status.
    case status(Int, path: String)
    /// The daemon's answer could not be decoded.
    case decode(path: String)

    public var description: String {
        switch self {
        case .unavailable(let why): "docker unavailable: \(why)"
        case .status(let code, let path): "docker API \(path): HTTP \(code)"
        case .decode(let path): "docker API \(path): undecodable response"
        }
    }
}

/// A small Docker Engine API client over the unix socket: requests and the event stream through
/// async-http-client, container log streams on connections of their own (`readLogs`).
/// The API version is negotiated from `/_ping` (`API-Version`), never pinned: the client uses the
/// daemon's version, capped at the newest this agent was written against.
public final class DockerClient: Sendable {
    /// The newest API version this client knows; older daemons get their own version.
    public static let maxAPIVersion = "1.47"
    /// Below this the endpoints used here do not exist in the same shape.
    public static let minAPIVersion = "1.24"

    let client: HTTPClient
    /// Every Docker connection lives on this one event loop, and the monitor's tasks run on it
    /// too (`executor`): a response resumes the waiting task on the loop that read it (a queue
    /// append) instead of a hop to the cooperative pool and back (two thread wake-ups). Log
    /// streams are decoded in the loop's read callback and resume no task per chunk at all.
    let eventLoop: any EventLoop
    /// The loop's own group: the loop pauses between busy rounds of reads (`ReadCoalescer`), so
    /// it is not shared with the health server or anything else that must answer at once.
    let group: MultiThreadedEventLoopGroup
    let coalescer: ReadCoalescer
    public let executor: EventLoopExecutor
    let socketPath: String
    let base: String
    static let smallResponseLimit = 8 << 20
    /// Called once per request sent (each stream is one), for the API-call counter.
    let onRequest: @Sendable () -> Void

    /// How long busy log streams' data piles up between rounds of reads (`ReadCoalescer`).
    static let readCoalescing = TimeAmount.milliseconds(25)

    public init(socketPath: String, onRequest: @escaping @Sendable () -> Void = {}) {
        self.socketPath = socketPath
        self.onRequest = onRequest
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: nil),
            // The event stream holds its connection for as long as it lasts: requests must never
            // queue behind it (or behind each other) for a connection.
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 4096),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
        executor = EventLoopExecutor(eventLoop: eventLoop)
        coalescer = ReadCoalescer(window: Self.readCoalescing, eventLoop: eventLoop)
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoop), configuration: configuration)
        base = "http+unix://" + Self.escape(socketPath)
    }

    public func shutdown() async {
        try? await client.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Connects to the socket once, so a missing, refused or forbidden socket is reported at once
    /// with its reason (the HTTP client would retry connecting until its deadline). nil: reachable.
    public static func probe(socketPath: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket(): errno \(errno)" }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: addr.sun_path) else { return "socket path too long" }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc != 0 else { return nil }
        switch errno {
        case ENOENT: return "socket missing"
        case ECONNREFUSED: return "connection refused"
        case EACCES, EPERM: return "permission denied"
        case let e: return "connect: errno \(e)"
        }
    }

    /// `GET /_ping`: the version to use for every other call.
    public func negotiateVersion() async throws -> String {
        let response = try await send(path: "/_ping", timeout: .seconds(5))
        _ = try? await response.body.collect(upTo: 1024)
        guard response.status.code == 200 else { throw DockerError.status(Int(response.status.code), path: "/_ping") }
        let server = response.headers.first(name: "API-Version") ?? Self.minAPIVersion
        return Self.negotiate(server: server)
    }

    /// min(server, maxAPIVersion), compared as numbers ("1.9" < "1.41").
    public static func negotiate(server: String) -> String {
        func parts(_ v: String) -> [Int] { v.split(separator: ".").map { Int($0) ?? 0 } }
        return parts(server).lexicographicallyPrecedes(parts(maxAPIVersion)) ? server : maxAPIVersion
    }

    /// Running containers, the first `limit` of them; the listing is read as a stream, one
    /// element at a time, within `bodyTimeout`, so its length costs time, never memory.
    /// `total` counts every element (kept, beyond the limit, and undecodable).
    public func runningContainers(version: String, limit: Int) async throws -> (containers: [DockerContainerSummary], total: Int) {
        let path = "/containers/json"
        let response = try await send(path: "/v\(version)" + path, timeout: .seconds(10))
        guard response.status.code == 200 else {
            _ = try? await Self.withinBodyTimeout { try await response.body.collect(upTo: 64 << 10) }
            throw DockerError.status(Int(response.status.code), path: path)
        }
        let body = response.body
        return try await Self.withinBodyTimeout {
            var scanner = JSONArrayScanner(maxElementBytes: 1 << 20)
            var kept: [DockerContainerSummary] = []
            var total = 0
            let decoder = JSONDecoder()
            var elements: [[UInt8]] = []
            for try await buffer in body {
                // Contiguous bytes: the scanner's byte loop runs over a raw buffer, not through
                // ByteBufferView's per-byte accessors (twelve times slower unoptimized).
                buffer.withUnsafeReadableBytes { scanner.feed($0, into: &elements) }
                for e in elements {
                    total += 1
                    guard kept.count < limit, let c = try? decoder.decode(DockerContainerSummary.self, from: Data(e)) else { continue }
                    kept.append(c)
                }
                elements.removeAll(keepingCapacity: true)
                if scanner.failed { throw DockerError.decode(path: path) }
            }
            guard scanner.finished else { throw DockerError.decode(path: path) }
            return (kept, total + scanner.oversized)
        }
    }

    /// How long a (non-streaming) response body may take once its head arrived: a daemon, or
    /// whatever listens on the socket, that sends a head and then trickles the body is cut off.
    static let bodyTimeout = Duration.seconds(30)

    /// Runs `body` and fails with `DockerError.unavailable` if it takes longer than `bodyTimeout`.
    static func withinBodyTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask { try await Task.sleep(for: bodyTimeout); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw DockerError.unavailable("response body not received within \(bodyTimeout)")
            }
            return value
        }
    }

    public func inspectContainer(_ id: String, version: String) async throws -> DockerContainerInspect {
        try await get(version: version, path: "/containers/\(id)/json")
    }

    public func inspectExec(_ id: String, version: String) async throws -> DockerExecInspect {
        try await get(version: version, path: "/exec/\(id)/json")
    }

    /// `GET /events` for containers since `since` (or from now), streamed until the daemon goes away.
    public func events(version: String, since: DockerTimestamp?) async throws -> HTTPClientResponse.Body {
        var query = "filters=" + Self.escape(#"{"type":["container"]}"#)
        if let since { query += "&since=" + since.sinceParameter }
        return try await stream(version: version, path: "/events?" + query)
    }

    /// The path of `GET /containers/{id}/logs` following (or, with `follow` false, up to now)
    /// stdout and stderr with timestamps: the last `tail` lines on first attach, or everything
    /// from `since` when resuming. Read with `readLogs`.
    static func logsPath(_ id: String, version: String, tail: Int, since: DockerTimestamp?, follow: Bool = true) -> String {
        var query = "follow=\(follow ? 1 : 0)&stdout=1&stderr=1&timestamps=1"
        if let since {
            query += "&since=" + since.sinceParameter + "&tail=all"
        } else {
            query += "&tail=\(tail)"
        }
        return "/v\(version)/containers/\(escape(id))/logs?" + query
    }

    // MARK: - transport

    private func get<T: Decodable>(version: String, path: String) async throws -> T {
        let response = try await send(path: "/v\(version)" + path, timeout: .seconds(10))
        let body: ByteBuffer
        do {
            body = try await Self.withinBodyTimeout { try await response.body.collect(upTo: Self.smallResponseLimit) }
        } catch let e as DockerError {
            throw e
        } catch {
            throw DockerError.unavailable(Self.describe(error))
        }
        guard response.status.code == 200 else { throw DockerError.status(Int(response.status.code), path: path) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw DockerError.decode(path: path)
        }
    }

    private func stream(version: String, path: String) async throws -> HTTPClientResponse.Body {
        let response = try await send(path: "/v\(version)" + path, deadline: .distantFuture)
        guard response.status.code == 200 else {
            _ = try? await response.body.collect(upTo: 64 << 10)
            throw DockerError.status(Int(response.status.code), path: String(path.prefix(while: { $0 != "?" })))
        }
        return response.body
    }

    private func send(path: String, timeout: TimeAmount) async throws -> HTTPClientResponse {
        try await send(path: path, deadline: .now() + timeout)
    }

    private func send(path: String, deadline: NIODeadline) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Host", value: "docker")
        onRequest()
        do {
            return try await client.execute(request, deadline: deadline)
        } catch let e as DockerError {
            throw e
        } catch {
            throw DockerError.unavailable(Self.describe(error))
        }
    }

    /// Percent-encodes everything but letters and digits (socket paths in the URL host, query values).
    static func escape(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A short reason: "socket missing", "connection refused", "permission denied", or the error's text.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("ENOENT") || text.contains("No such file") { return "socket missing" }
        if text.contains("ECONNREFUSED") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("EACCES") || text.contains("Permission denied") { return "permission denied" }
        if let e = error as? HTTPClientError, e == .remoteConnectionClosed { return "connection closed by daemon" }
        return text
    }
}
