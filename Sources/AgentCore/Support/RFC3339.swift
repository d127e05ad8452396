/// RFC 3339 UTC timestamps ("2025-01-15T10:30:00Z") without DateFormatter or ICU.
public enum RFC3339 {
    /// Formats whole seconds since the Unix epoch.
    public static func format(unixSeconds: Int64) -> String {
        let t = split(unixSeconds: unixSeconds)
        return pad(t.year, 4) + "-" + pad(t.month, 2) + "-" + pad(t.day, 2) + "T" + t.time + "Z"
    }

    /// Days since the epoch, the civil date and "hh:mm:ss" (UTC) of whole seconds since the epoch.
    /// Shared with `HTTPDate.format`.
    static func split(unixSeconds: Int64) -> (days: Int64, year: Int64, month: Int64, day: Int64, time: String) {
        let days = floorDiv(unixSeconds, 86_400)
        let secs = unixSeconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        return (days, y, m, d, pad(secs / 3600, 2) + ":" + pad((secs % 3600) / 60, 2) + ":" + pad(secs % 60, 2))
    }

    /// Parses the UTC form this agent and Docker emit ("...Z", optional fraction) or an explicit offset.
    /// Returns seconds since the epoch (fraction dropped), or nil when the text is not RFC 3339.
    /// One parser for both: `DockerTimestamp(rfc3339:)` reads the bytes.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        DockerTimestamp(rfc3339: Array(text.utf8))?.seconds
    }

    // Howard Hinnant's civil-from-days / days-from-civil algorithms.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
