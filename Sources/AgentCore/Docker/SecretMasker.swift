#if canImport(Glibc)
import Glibc
#endif

/// Masks secrets in log lines before anything leaves the host. Masked values become `***`; keys,
/// schemes and user names stay so the line is still useful.
///
/// What is masked (one pass over the bytes, no regular expressions):
/// - the value after a secret-looking key followed by `=` or `:` (plain, quoted or JSON): the key,
///   lower-cased with `-`/`.` read as `_`, ends in password, passwd, pwd, secret, token, api_key,
///   apikey, access_key or accesskey, or starts with `password_`, `secret_` or `token_`
///   (`DB_PASSWORD=…`, `"apiKey": "…"`, `x-api-key: …`, `client_secret=…`);
/// - `Authorization:`/`Proxy-Authorization:` credentials (scheme kept), and `Bearer <token>` anywhere;
/// - the password in URL user info (`scheme://user:***@host`);
/// - JSON Web Tokens (`eyJ….….…`) and AWS access key ids (`AKIA…`/`ASIA…`, 20 characters);
/// - PEM private key blocks, also across lines (stateful: one masker per container stream).
public struct SecretMasker: Sendable {
    /// Inside a `-----BEGIN … PRIVATE KEY-----` block that began on an earlier line.
    public private(set) var inPrivateKey = false

    public init(inPrivateKey: Bool = false) {
        self.inPrivateKey = inPrivateKey
    }

    /// Whether a stream is inside a PEM private key block after `line`, given whether it was
    /// before: the one piece of masking state, tracked for every line so that masking itself can
    /// wait until a line is known to leave the host. Same rules as `mask`.
    public static func privateKeyState(after line: [UInt8], startingInside: Bool) -> Bool {
        var inside = startingInside
        line.withUnsafeBufferPointer { p in
            var i = 0
            while i + 9 <= p.count, let at = ByteSearch.index(of: 45, in: p, from: i) { // '-'
                if ByteSearch.matches(pemEnd, in: p, at: at) {
                    inside = false
                    i = at + pemEnd.count
                } else if ByteSearch.matches(pemBegin, in: p, at: at) {
                    // BEGIN ... PRIVATE KEY-----
                    var j = at + pemBegin.count
                    var header = false
                    while j + 5 <= p.count {
                        if p[j] == 45, p[j + 1] == 45, p[j + 2] == 45, p[j + 3] == 45, p[j + 4] == 45 {
                            header = ByteSearch.matches(privateKey, in: p, at: j - privateKey.count)
                            break
                        }
                        j += 1
                    }
                    if header { inside = true }
                    i = j + 5
                } else {
                    i = at + 1
                }
            }
        }
        return inside
    }

    public static let mask: [UInt8] = Array("***".utf8)

    /// Returns the masked line and how many values were masked (0: `line` unchanged).
    public mutating func mask(_ line: [UInt8]) -> (bytes: [UInt8], masked: Int) {
        var spans: [Range<Int>] = []
        line.withUnsafeBufferPointer { p in
            scan(p, into: &spans)
        }
        if spans.isEmpty { return (line, 0) }
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var at = 0
        var count = 0
        for s in spans where s.lowerBound >= at && !s.isEmpty {
            out.append(contentsOf: line[at..<s.lowerBound])
            out.append(contentsOf: Self.mask)
            at = s.upperBound
            count += 1
        }
        out.append(contentsOf: line[at...])
        return (out, count)
    }

    // MARK: - scanning

    private mutating func scan(_ p: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        let n = p.count
        var i = 0
        if inPrivateKey {
            if let end = ByteSearch.find(Self.pemEnd, in: p) {
                inPrivateKey = false
                if end > 0 { spans.append(0..<end) }
                i = end + Self.pemEnd.count
            } else {
                if n > 0 { spans.append(0..<n) }
                return
            }
        }
        while i < n {
            let b = p[i]
            guard Self.isTrigger(b) else { i += 1; continue }
            switch b {
            case UInt8(ascii: "="), UInt8(ascii: ":"):
                if b == UInt8(ascii: ":"), i + 2 < n, p[i + 1] == UInt8(ascii: "/"), p[i + 2] == UInt8(ascii: "/") {
                    if let s = urlPassword(p, schemeColon: i) { spans.append(s); i = s.upperBound; continue }
                    i += 3
                    continue
                }
                if let s = keyedValue(p, separator: i) { spans.append(s); i = s.upperBound; continue }
            case UInt8(ascii: "J"): // JWTs start "eyJ" (base64 of `{"`): look back from the rarer J
                if i >= 2, p[i - 1] == UInt8(ascii: "y"), p[i - 2] == UInt8(ascii: "e"), !isB64URL(before: i - 2, p),
                   let s = jwt(p, at: i - 2) {
                    spans.append(s); i = s.upperBound; continue
                }
            case UInt8(ascii: "A"):
                if i + 20 <= n, p[i + 2] == UInt8(ascii: "I"), p[i + 3] == UInt8(ascii: "A"),
                   p[i + 1] == UInt8(ascii: "K") || p[i + 1] == UInt8(ascii: "S"),
                   i == 0 || !isAlnum(p[i - 1]), i + 20 == n || !isAlnum(p[i + 20]),
                   (4..<20).allSatisfy({ isUpperOrDigit(p[i + $0]) }) {
                    spans.append(i..<(i + 20)); i += 20; continue
                }
            case UInt8(ascii: "b"), UInt8(ascii: "B"):
                if let s = bearer(p, at: i) { spans.append(s); i = s.upperBound; continue }
            case UInt8(ascii: "-"):
                if i + 5 <= n, p[i + 1] == b, p[i + 2] == b, p[i + 3] == b, p[i + 4] == b, ByteSearch.matches(Self.pemBegin, in: p, at: i),
                   let headerEnd = ByteSearch.find(Self.dashes5, in: p, from: i + Self.pemBegin.count),
                   ByteSearch.contains(Self.privateKey, in: p, range: (i + Self.pemBegin.count)..<headerEnd) {
                    let bodyStart = headerEnd + 5
                    if let end = ByteSearch.find(Self.pemEnd, in: p, from: bodyStart) {
                        if end > bodyStart { spans.append(bodyStart..<end) }
                        i = end + Self.pemEnd.count
                        continue
                    }
                    if bodyStart < n { spans.append(bodyStart..<n) }
                    inPrivateKey = true
                    return
                }
            default:
                break
            }
            i += 1
        }
    }

    static let pemBegin: [UInt8] = Array("-----BEGIN ".utf8)
    static let pemEnd: [UInt8] = Array("-----END ".utf8)
    static let dashes5: [UInt8] = Array("-----".utf8)
    static let privateKey: [UInt8] = Array("PRIVATE KEY".utf8)

    /// Secret key suffixes (keys are lower-cased, `-` and `.` read as `_`).
    static let suffixes: [[UInt8]] = ["password", "passwd", "pwd", "secret", "token", "api_key", "apikey",
                                      "access_key", "accesskey"].map { Array($0.utf8) }
    static let prefixes: [[UInt8]] = ["password_", "secret_", "token_"].map { Array($0.utf8) }
    static let authorization: [UInt8] = Array("authorization".utf8)

    /// `key=value`, `key: value`, `"key": "value"`: finds the key before the separator at `sep`.
    private func keyedValue(_ p: UnsafeBufferPointer<UInt8>, separator sep: Int) -> Range<Int>? {
        var k = sep - 1
        while k >= 0, p[k] == 32 { k -= 1 }
        if k >= 0, p[k] == UInt8(ascii: "\"") || p[k] == UInt8(ascii: "'") { k -= 1 }
        let keyEnd = k + 1
        while k >= 0, isKeyChar(p[k]) { k -= 1 }
        let keyStart = k + 1
        let keyLen = keyEnd - keyStart
        guard keyLen >= 3, keyLen <= 64 else { return nil }
        // Cheap filter first: every secret key ends in d, t, n or y, or starts with p, s or t.
        let last = p[keyEnd - 1] | 0x20, first = p[keyStart] | 0x20
        guard last == 100 || last == 116 || last == 110 || last == 121 || first == 112 || first == 115 || first == 116 else {
            return nil
        }
        let isAuthorization = keyHasSuffix(p, keyStart, keyEnd, Self.authorization)
        guard isAuthorization
            || Self.suffixes.contains(where: { keyHasSuffix(p, keyStart, keyEnd, $0) })
            || Self.prefixes.contains(where: { keyLen > $0.count && keyHasSuffix(p, keyStart, keyStart + $0.count, $0) })
        else { return nil }
        guard var v = value(p, after: sep) else { return nil }
        if isAuthorization {
            // Keep the scheme ("Basic", "Bearer"): mask what follows it.
            var s = v.lowerBound
            while s < p.count, isAlpha(p[s]) { s += 1 }
            if s > v.lowerBound, s < p.count, p[s] == 32 {
                var t = s
                while t < p.count, p[t] == 32 { t += 1 }
                var e = t
                while e < p.count, !isValueEnd(p[e]) { e += 1 }
                if e > t { v = t..<e }
            }
        }
        return v
    }

    /// The value after a separator: quoted (up to the closing quote) or bare (up to a delimiter).
    private func value(_ p: UnsafeBufferPointer<UInt8>, after sep: Int) -> Range<Int>? {
        var v = sep + 1
        let n = p.count
        while v < n, p[v] == 32 { v += 1 }
        guard v < n else { return nil }
        let q = p[v]
        if q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") {
            var e = v + 1
            while e < n, p[e] != q {
                if p[e] == UInt8(ascii: "\\") { e += 1 }
                e += 1
            }
            e = min(e, n)
            return e > v + 1 ? (v + 1)..<e : nil
        }
        var e = v
        while e < n, !isValueEnd(p[e]) { e += 1 }
        return e > v ? v..<e : nil
    }

    /// `scheme://user:password@host`: the password.
    private func urlPassword(_ p: UnsafeBufferPointer<UInt8>, schemeColon: Int) -> Range<Int>? {
        let start = schemeColon + 3
        var colon: Int?
        var i = start
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "@") {
                guard let colon, i > colon + 1 else { return nil }
                return (colon + 1)..<i
            }
            if c == UInt8(ascii: "/") || c == UInt8(ascii: "?") || c == UInt8(ascii: "#") || c <= 32 || c == UInt8(ascii: "\"") {
                return nil
            }
            if c == UInt8(ascii: ":"), colon == nil { colon = i }
            i += 1
        }
        return nil
    }

    /// `eyJ<header>.<payload>[.<signature>]`
    private func jwt(_ p: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        var i = start
        var segments = 1
        var segmentLength = 0
        var lengths: [Int] = []
        while i < p.count {
            let c = p[i]
            if isB64URLChar(c) {
                segmentLength += 1
            } else if c == UInt8(ascii: "."), segments < 3, segmentLength > 0 {
                lengths.append(segmentLength)
                segments += 1
                segmentLength = 0
            } else {
                break
            }
            i += 1
        }
        lengths.append(segmentLength)
        guard segments >= 2, lengths[0] >= 10, lengths[1] >= 2 else { return nil }
        return start..<i
    }

    /// `Bearer <token>` (case-insensitive), token of at least 8 characters.
    private func bearer(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Range<Int>? {
        guard i + 7 < p.count, i == 0 || !isAlpha(p[i - 1]) else { return nil }
        let word: [UInt8] = [98, 101, 97, 114, 101, 114] // "bearer"
        for j in 0..<6 where p[i + j] | 0x20 != word[j] { return nil }
        var t = i + 6
        guard p[t] == 32 else { return nil }
        while t < p.count, p[t] == 32 { t += 1 }
        var e = t
        while e < p.count, isB64URLChar(p[e]) || p[e] == UInt8(ascii: ".") || p[e] == UInt8(ascii: "+")
            || p[e] == UInt8(ascii: "/") || p[e] == UInt8(ascii: "=") || p[e] == UInt8(ascii: "~") { e += 1 }
        return e - t >= 8 ? t..<e : nil
    }

    // MARK: - byte helpers

    /// Whether the key `p[start..<end]`, lower-cased with `-`/`.` read as `_`, ends with `word`.
    @inline(__always)
    private func keyHasSuffix(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ word: [UInt8]) -> Bool {
        guard end - start >= word.count else { return false }
        var k = end - word.count
        for w in word {
            var c = p[k]
            if c >= 65, c <= 90 { c += 32 } else if c == UInt8(ascii: "-") || c == UInt8(ascii: ".") { c = UInt8(ascii: "_") }
            guard c == w else { return false }
            k += 1
        }
        return true
    }

    /// Bytes where a secret can start: `=` `:` `-` (below 64) and `A` `B` `J` `b` (64-127).
    @inline(__always)
    private static func isTrigger(_ b: UInt8) -> Bool {
        if b < 64 { return (0x2400_2000_0000_0000 as UInt64) >> b & 1 != 0 }
        if b < 128 { return (0x0000_0004_0000_0406 as UInt64) >> (b - 64) & 1 != 0 }
        return false
    }

    @inline(__always) private func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }
    @inline(__always) private func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (c >= 48 && c <= 57) }
    @inline(__always) private func isUpperOrDigit(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 48 && c <= 57) }
    @inline(__always) private func isKeyChar(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }
    @inline(__always) private func isB64URLChar(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }
    @inline(__always) private func isB64URL(before i: Int, _ p: UnsafeBufferPointer<UInt8>) -> Bool {
        i > 0 && isB64URLChar(p[i - 1])
    }
    @inline(__always) private func isValueEnd(_ c: UInt8) -> Bool {
        c <= 32 || c == UInt8(ascii: ",") || c == UInt8(ascii: ";") || c == UInt8(ascii: "&") || c == UInt8(ascii: "\"")
            || c == UInt8(ascii: "'") || c == UInt8(ascii: "}") || c == UInt8(ascii: ")") || c == UInt8(ascii: "]")
    }
}
