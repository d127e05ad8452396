/// Stable, greppable error codes. Operators match on these, so they never change meaning.
public enum AgentErrorCode: String, Sendable, Equatable {
    case invalidConfiguration = "E_CONFIG"
    case procParse = "E_PROC_PARSE"
    case fileRead = "E_FILE_READ"
    case statvfs = "E_STATVFS"
    case encode = "E_ENCODE"
    case sendTransport = "E_SEND_TRANSPORT"
    case sendRejected = "E_SEND_REJECTED"
    case signature = "E_SIGNATURE"
    case queueIO = "E_QUEUE_IO"
}

/// An error with a code, what went wrong, the offending input (quoted, truncated) and an optional cause.
/// Never put a secret into `input` or `message`.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public let code: AgentErrorCode
    public let message: String
    public let input: String?
    public let cause: String?

    public init(_ code: AgentErrorCode, _ message: String, input: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.input = input.map { AgentError.quote($0) }
        self.cause = cause.map { String(describing: $0) }
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let input { s += " (input: \(input))" }
        if let cause { s += ": \(cause)" }
        return s
    }

    /// Quotes and bounds an input excerpt so one bad line cannot flood a log.
    public static func quote(_ raw: String, limit: Int = 120) -> String {
        let cut = raw.count > limit ? String(raw.prefix(limit)) + "…" : raw
        return "\"" + escapingControls(cut, quote: true) + "\""
    }

    /// Text with C0 controls, DEL and C1 controls as `\n`, `\r`, `\t` or `\u{XX}` and a
    /// backslash doubled (and `"` escaped when `quote`), so text from outside (workload names,
    /// command lines, log excerpts) can neither forge a log line nor drive a terminal.
    public static func escapingControls(_ text: String, quote: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\\" || (quote && $0 == "\"") })
        else { return text }
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "\"" where quote: out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 || (0x7F...0x9F).contains(ch.value) {
                    out += "\\u{" + String(ch.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out
    }
}
