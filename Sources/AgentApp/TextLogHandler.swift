import AgentCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `--log-format text`: one readable line per event on stderr, in swift-log's stream format
/// (`<time> <level> <label>: k=v ... [<source>] <message>`), with every control character in
/// the message and metadata escaped. Container names, exec command lines and log excerpts come
/// from workloads: a raw CR, LF or ESC in them would forge a log line or drive a terminal.
/// Each line goes out in one write(2), so lines from different tasks never interleave.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let fd: Int32

    public init(label: String, fd: Int32 = 2) {
        self.label = label
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = JSONLogHandler.timestamp() + " " + event.level.rawValue + " " + label + ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " " + Self.escape(key) + "=" + Self.escape("\(value)")
        }
        line += " [" + event.source + "] " + Self.escape("\(event.message)") + "\n"
        CLI.writeAll(fd, Array(line.utf8))
    }

    static func escape(_ text: String) -> String { AgentError.escapingControls(text) }
}
