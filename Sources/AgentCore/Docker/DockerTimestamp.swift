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

    /// From an event's `timeNano` (any Int64 a daemon sends: the fraction is always 0-999,999,999,
    /// also before 1970).
    public init(timeNano: Int64) {
        let (q, r) = timeNano.quotientAndRemainder(dividingBy: 1_000_000_000) // r has the sign of timeNano
        self.init(seconds: r < 0 ? q - 1 : q, nanos: Int32(r < 0 ? r + 1_000_000_000 : r))
    }

    /// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the times RFC 3339 can print.
    public static let printable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Parses RFC 3339 text with an optional fraction of up to nine digits and `Z` or an offset,
    /// straight from the bytes (this runs once per container log line).
    public init?<C: Collection<UInt8>>(rfc3339 bytes: C) where C.Index == Int {
        let b = bytes.startIndex
        let n = bytes.count
        guard n >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int64? {
            var v: Int64 = 0
            for i in (b + from)..<(b + from + len) {
                let c = bytes[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let y = num(0, 4), bytes[b + 4] == 45, let mo = num(5, 2), bytes[b + 7] == 45, let d = num(8, 2),
              bytes[b + 10] == 84 || bytes[b + 10] == 116 || bytes[b + 10] == 32,
              let h = num(11, 2), bytes[b + 13] == 58, let mi = num(14, 2), bytes[b + 16] == 58, let sec = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        var i = 19
        var nanos: Int32 = 0
        if bytes[b + i] == 46 { // fraction
            i += 1
            var digits = 0
            while i < n, bytes[b + i] >= 48, bytes[b + i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int32(bytes[b + i] - 48); digits += 1 }
                i += 1
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        guard i < n else { return nil }
        var offset: Int64 = 0
        let z = bytes[b + i]
        if z == 90 || z == 122 {
            guard i + 1 == n else { return nil }
        } else if z == 43 || z == 45, i + 6 == n, let oh = num(i + 1, 2), bytes[b + i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (z == 43 ? 1 : -1)
        } else {
            return nil
        }
        self.init(seconds: RFC3339.days(fromCivil: y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset, nanos: nanos)
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.seconds, a.nanos) < (b.seconds, b.nanos)
    }

    /// The `since` query value Docker accepts: `<seconds>.<nanoseconds>`.
    public var sinceParameter: String {
        let n = String(min(max(nanos, 0), 999_999_999))
        return "\(seconds)." + String(repeating: "0", count: 9 - n.count) + n
    }

    /// RFC 3339 UTC with nine fraction digits ("2026-11-28T22:50:06.943219372Z"); a time outside
    /// years 1-9999 (only a hostile daemon sends one) prints as the nearest end of that range.
    public var description: String {
        let clamped = min(max(seconds, Self.printable.lowerBound), Self.printable.upperBound)
        let days = RFC3339.floorDiv(clamped, 86_400)
        let daySeconds = clamped - days * 86_400
        let (y, m, d) = RFC3339.civil(fromDays: days)
        var out = [UInt8](repeating: 0, count: 30)
        func put(_ v: Int64, _ at: Int, _ width: Int) {
            var v = v
            for i in stride(from: at + width - 1, through: at, by: -1) { out[i] = UInt8(48 + v % 10); v /= 10 }
        }
        put(y, 0, 4); out[4] = 45; put(m, 5, 2); out[7] = 45; put(d, 8, 2); out[10] = 84
        put(daySeconds / 3600, 11, 2); out[13] = 58; put(daySeconds % 3600 / 60, 14, 2); out[16] = 58
        put(daySeconds % 60, 17, 2); out[19] = 46; put(Int64(min(max(nanos, 0), 999_999_999)), 20, 9); out[29] = 90
        return String(decoding: out, as: UTF8.self)
    }
}
