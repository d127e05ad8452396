/// One key a receiver verifies with: the shared secret of `--secret`/`--secret-file` (no id) or
/// a keyring entry.
public struct VerifyingKey: Sendable {
    public let id: String?
    public let signer: PayloadSigner

    public init(id: String?, secret: Secret) {
        self.id = id
        self.signer = PayloadSigner(secret: secret)
    }
}

/// A keyring file: one `id: secret` per line, `#` comments and blank lines ignored. Secrets
/// rotate by adding the new key beside the old one, moving the agents over, then removing the old
/// one; every key listed is current. Parse errors name the line, never a secret.
public enum Keyring {
    /// Keys a file may hold: a request without a key id is checked against each, so the list is
    /// short (two during a rotation).
    public static let maxKeys = 16
    public static let keyIDHeader = "X-Agent-Key-Id"

    public static func parse(_ bytes: [UInt8]) throws(ConfigError) -> [(id: String, secret: Secret)] {
        var out: [(id: String, secret: Secret)] = []
        for (n, raw) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            var line = raw[...]
            if line.last == 13 { line = line.dropLast() }
            let trimmed = line.drop { $0 == 32 || $0 == 9 }
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            guard let colon = trimmed.firstIndex(of: UInt8(ascii: ":")) else {
                throw ConfigError(flag: "keyring", "line \(n + 1): expected 'id: secret'")
            }
            let id = String(decoding: trimmed[..<colon], as: UTF8.self)
            guard isValidKeyID(id) else {
                throw ConfigError(flag: "keyring", "line \(n + 1): a key id is 1 to 64 of A-Z a-z 0-9 . _ -")
            }
            let secret = trimmed[trimmed.index(after: colon)...].drop { $0 == 32 || $0 == 9 }
            guard !secret.isEmpty else { throw ConfigError(flag: "keyring", "line \(n + 1): key \(id) has an empty secret") }
            guard !out.contains(where: { $0.id == id }) else { throw ConfigError(flag: "keyring", "line \(n + 1): key \(id) is listed twice") }
            guard out.count < maxKeys else { throw ConfigError(flag: "keyring", "more than \(maxKeys) keys") }
            out.append((id, Secret(bytes: Array(secret))))
        }
        return out
    }

    /// A key id: 1 to 64 of `A-Z a-z 0-9 . _ -` (it travels in a header and names a key in logs).
    public static func isValidKeyID(_ id: some StringProtocol) -> Bool {
        let u = id.utf8
        return (1...64).contains(u.count) && u.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45
        }
    }
}
