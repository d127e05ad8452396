#if canImport(Glibc)
import Glibc
#endif

/// Finds the HTTP status code in a container log line: nginx/Apache common and combined formats
/// (`… "GET / HTTP/1.1" 502 157 …`) and JSON access logs with a `status` (or `status_code`,
/// `statusCode`) field. Returns nil for lines that are not access-log lines.
public enum HTTPStatusParser {
    public static func status(in line: [UInt8]) -> Int? {
        line.withUnsafeBufferPointer { p in
            if let s = combined(p) { return s }
            return json(p)
        }
    }

    /// `"<METHOD> <path> HTTP/x" <status> `: the first quoted request containing ` HTTP/`.
    private static func combined(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = p.count
        var i = 0
        while i < n {
            guard let open = ByteSearch.index(of: UInt8(ascii: "\""), in: p, from: i) else { return nil }
            guard let close = ByteSearch.index(of: UInt8(ascii: "\""), in: p, from: open + 1) else { return nil }
            if close - open > 9, ByteSearch.contains(http, in: p, range: (open + 1)..<close) {
                let s = close + 1
                guard s + 4 <= n, p[s] == 32 else { return nil }
                return code(p, at: s + 1)
            }
            i = close + 1
        }
        return nil
    }

    private static let http: [UInt8] = Array(" HTTP/".utf8)
    private static let keys: [[UInt8]] = ["\"status\"", "\"status_code\"", "\"statusCode\""].map { Array($0.utf8) }

    /// `"status": 503` or `"status": "503"`.
    private static func json(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p.first(where: { $0 != 32 }) == UInt8(ascii: "{") else { return nil }
        for key in keys {
            guard let at = ByteSearch.find(key, in: p) else { continue }
            var i = at + key.count
            while i < p.count, p[i] == 32 { i += 1 }
            guard i < p.count, p[i] == UInt8(ascii: ":") else { continue }
            i += 1
            while i < p.count, p[i] == 32 { i += 1 }
            if i < p.count, p[i] == UInt8(ascii: "\"") { i += 1 }
            if let c = code(p, at: i) { return c }
        }
        return nil
    }

    /// Three digits 100-599 not followed by another digit.
    private static func code(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        guard i + 3 <= p.count else { return nil }
        var v = 0
        for j in i..<(i + 3) {
            let c = p[j]
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        if i + 3 < p.count, p[i + 3] >= 48, p[i + 3] <= 57 { return nil }
        return (100...599).contains(v) ? v : nil
    }
}
