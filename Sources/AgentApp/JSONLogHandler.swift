import AgentCore
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `--log-format json`: one JSON object per line on stderr, for journald and log shippers:
/// `{"level":"info","logger":"monitoring-agent","message":"…","metadata":{…},"source":"AgentApp","ts":"…"}`.
/// Each line goes out in one write(2), so lines from different tasks never interleave.
public struct JSONLogHandler: LogHandler {
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

    struct Line: Encodable {
        var ts: String
        var level: String
        var logger: String
        var message: String
        var source: String
        var metadata: [String: String]?
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Line(ts: Self.timestamp(), level: event.level.rawValue, logger: label, message: "\(event.message)",
                        source: event.source, metadata: merged.isEmpty ? nil : merged.mapValues { "\($0)" })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var bytes = try? Array(encoder.encode(line)) else { return }
        bytes.append(10)
        CLI.writeAll(fd, bytes)
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = Int(ts.tv_nsec / 1_000_000)
        let base = RFC3339.format(unixSeconds: Int64(ts.tv_sec))
        return base.dropLast() + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms) + "Z"
    }
}
