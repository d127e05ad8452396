import AgentCore

/// Text into HTML. Everything on the pages that came from an agent (host names, alert subjects,
/// container names, log lines a container wrote) is attacker-influenced: it goes through
/// `escape`, never into markup, script or a URL unescaped.
public enum HTML {
    /// `&`, `<`, `>`, `"` and `'` as entities: safe in element text and quoted attributes.
    public static func escape(_ s: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A query-string value: everything but unreserved characters percent-encoded.
    public static func queryValue(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// A number as the pages print it: up to 2 decimals, "–" when unknown.
    public static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        let r = (v * 100).rounded() / 100
        return r == r.rounded() && abs(r) < 1e15 ? String(Int64(r)) : String(r)
    }

    /// A number for an axis label, short enough for its margin: one decimal and k, M, G or T
    /// from a thousand up (`122.5k`, `1.2M`), else as `number` prints it.
    public static func compact(_ v: Double?) -> String {
        guard let v, v.isFinite else { return number(v) }
        for (limit, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where abs(v) >= limit {
            return number((v / limit * 10).rounded() / 10) + suffix
        }
        return number(v)
    }

    /// Unix seconds as `YYYY-MM-DD HH:MM:SS` UTC.
    public static func time(_ unix: Int64) -> String {
        RFC3339.format(unixSeconds: unix).replacing("T", with: " ").replacing("Z", with: "")
    }
}
