/// One entry of `journalctl -o json`: the fields the auth source uses.
public struct JournalEntry: Sendable, Equatable {
    public let message: String
    public let pid: Int32?
    public let identifier: String?
    public let cursor: String

    public init(message: String, pid: Int32?, identifier: String?, cursor: String) {
        self.message = message; self.pid = pid; self.identifier = identifier; self.cursor = cursor
    }

    struct Raw: Decodable {
        let message: Message?
        let pid: String?
        let syslogPID: String?
        let identifier: String?
        let cursor: String

        enum CodingKeys: String, CodingKey {
            case message = "MESSAGE", pid = "_PID", syslogPID = "SYSLOG_PID", identifier = "SYSLOG_IDENTIFIER", cursor = "__CURSOR"
        }
    }

    /// journald writes MESSAGE as a string, or as an array of bytes when it is not valid UTF-8.
    enum Message: Decodable {
        case text(String)
        case bytes([UInt8])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .text(s) } else { self = .bytes(try c.decode([UInt8].self)) }
        }
        var string: String {
            switch self {
            case .text(let s): s
            case .bytes(let b): String(decoding: b, as: UTF8.self)
            }
        }
    }

    /// Parses one JSON line; nil for anything that is not an entry with a cursor.
    public static func parse(_ line: some StringProtocol) -> JournalEntry? {
        guard let raw = try? JSONDecoder().decode(Raw.self, from: Data(line.utf8)) else { return nil }
        return JournalEntry(message: raw.message?.string ?? "", pid: (raw.syslogPID ?? raw.pid).flatMap { Int32($0) },
                            identifier: raw.identifier, cursor: raw.cursor)
    }
}
