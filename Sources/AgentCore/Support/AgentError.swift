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
        var out = "\""
        for ch in cut.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
