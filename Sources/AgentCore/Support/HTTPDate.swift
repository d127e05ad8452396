/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send in `Date` and `Retry-After`.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"] // 1970-01-01 was a Thursday

    /// Formats whole seconds since the Unix epoch, for the `Date` header of the agent's own responses.
    public static func format(unixSeconds: Int64) -> String {
        let t = RFC3339.split(unixSeconds: unixSeconds)
        let weekday = weekdays[Int(t.days - RFC3339.floorDiv(t.days, 7) * 7)]
        return weekday + ", " + RFC3339.pad(t.day, 2) + " " + months[Int(t.month) - 1] + " " + RFC3339.pad(t.year, 4)
            + " " + t.time + " GMT"
    }

    /// Years a parsed date may name. Servers and proxies are outside input: a year with more
    /// digits would overflow the day arithmetic, so anything outside this range is no date.
    public static let years: ClosedRange<Int64> = 1...9999

    public static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", parts[1].utf8.count <= 2, parts[3].utf8.count == 4,
              let day = Int64(parts[1]), let year = Int64(parts[3]), years.contains(year),
              let monthIndex = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":")
        guard hms.count == 3, hms.allSatisfy({ $0.utf8.count == 2 }), let h = Int64(hms[0]), let m = Int64(hms[1]), let s = Int64(hms[2]),
              (1...31).contains(day), (0..<24).contains(h), (0..<60).contains(m), (0..<61).contains(s) else { return nil }
        return RFC3339.days(fromCivil: year, Int64(monthIndex + 1), day) * 86_400 + h * 3600 + m * 60 + s
    }
}
