/// A Docker log or event time with nanosecond precision. Docker prints RFC 3339 with up to nine
/// fraction digits and trailing zeros trimmed ("…:06.9432Z"), podman whole seconds, so times are
/// compared as numbers, never as text.
public struct DockerTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64, nanos: Int32) {
        self.seconds = seconds
        self.nanos = nanos
    }

    /// From an event's `timeNano`.
    public init(timeNano: Int64) {
        self.init(seconds: timeNano / 1_000_000_000, nanos: Int32(timeNano % 1_000_000_000))
    }

    /// Parses RFC 3339 text with an optional fraction of up to nine digits.
    public init?(rfc3339 bytes: some Collection<UInt8>) {
        let u = Array(bytes)
        guard let whole = RFC3339.parse(String(decoding: u, as: UTF8.self)) else { return nil }
        var nanos: Int32 = 0
        if u.count > 19, u[19] == UInt8(ascii: ".") {
            var i = 20, digits = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int32(u[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        self.init(seconds: whole, nanos: nanos)
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.seconds, a.nanos) < (b.seconds, b.nanos)
    }

    /// The `since` query value Docker accepts: `<seconds>.<nanoseconds>`.
    public var sinceParameter: String {
        let n = String(nanos)
        return "\(seconds)." + String(repeating: "0", count: 9 - n.count) + n
    }

    /// RFC 3339 UTC with nine fraction digits.
    public var description: String {
        let base = RFC3339.format(unixSeconds: seconds)
        let n = String(nanos)
        return base.dropLast() + "." + String(repeating: "0", count: 9 - n.count) + n + "Z"
    }
}
