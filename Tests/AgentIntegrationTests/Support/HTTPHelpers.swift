import AsyncHTTPClient
import Foundation
import NIOCore

/// One HTTP request on loopback through async-http-client; returns status and body text.
func httpRequest(_ url: String, method: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> (status: Int, body: String) {
    let r = try await httpExchange(url, method: method, headers: headers, body: body)
    return (r.status, r.body)
}

/// As `httpRequest`, with the response's headers.
func httpExchange(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) async throws
    -> (status: Int, headers: [(String, String)], body: String) {
    var req = HTTPClientRequest(url: url)
    req.method = .init(rawValue: method)
    for (k, v) in headers { req.headers.add(name: k, value: v) }
    if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
    let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(10))
    let buf = try await resp.body.collect(upTo: 16 << 20)
    return (Int(resp.status.code), resp.headers.map { ($0.name, $0.value) }, String(buffer: buf))
}

func httpGet(_ url: String) async throws -> (status: Int, body: String) {
    try await httpRequest(url, method: "GET")
}
