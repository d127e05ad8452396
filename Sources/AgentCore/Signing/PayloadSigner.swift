import Crypto

/// A shared secret. Its description never shows the value, so it cannot leak through
/// string interpolation into a log line or an error.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let bytes: [UInt8]
    public init(_ value: String) { bytes = Array(value.utf8) }
    /// A key that is not text (a binary secret file): used as it is.
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public var isEmpty: Bool { bytes.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    /// Only for code that must compare against the raw value (the secret-leak scan in tests).
    public func withUnsafeValue<R>(_ body: (String) throws -> R) rethrows -> R {
        try body(String(decoding: bytes, as: UTF8.self))
    }
}

/// HMAC-SHA256 over `timestamp + "." + body`, as `X-Agent-Signature: sha256=<hex>`.
public struct PayloadSigner: Sendable {
    public static let signatureHeader = "X-Agent-Signature"
    public static let timestampHeader = "X-Agent-Timestamp"
    public static let prefix = "sha256="

    /// Raw key bytes (SymmetricKey is not Sendable in this swift-crypto; building one per
    /// signature costs one small copy).
    private let keyBytes: [UInt8]

    public init(secret: Secret) {
        keyBytes = secret.bytes
    }

    /// Lowercase hex HMAC of `"\(timestamp)." + body`.
    public func signature(timestamp: Int64, body: some Collection<UInt8>) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
        mac.update(data: Array(String(timestamp).utf8) + [UInt8(ascii: ".")])
        mac.update(data: Array(body))
        return Self.hex(Array(mac.finalize()))
    }

    /// The full header value, `sha256=<hex>`.
    public func headerValue(timestamp: Int64, body: some Collection<UInt8>) -> String {
        Self.prefix + signature(timestamp: timestamp, body: body)
    }

    /// Constant-time check of a received header value.
    public func verify(headerValue: String, timestamp: Int64, body: some Collection<UInt8>) -> Bool {
        guard headerValue.hasPrefix(Self.prefix) else { return false }
        let given = Array(headerValue.utf8.dropFirst(Self.prefix.utf8.count))
        let expected = Array(signature(timestamp: timestamp, body: body).utf8)
        guard given.count == expected.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<expected.count { diff |= given[i] ^ expected[i] }
        return diff == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
