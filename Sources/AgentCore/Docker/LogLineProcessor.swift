/// Turns a decoded container log line into a payload entry: secrets masked first, then the
/// message cut to `maxLineBytes` (at a UTF-8 boundary) with a marker.
public struct LogLineProcessor: Sendable {
    public static let truncationMarker = "…[truncated]"
    public let maxLineBytes: Int

    public init(maxLineBytes: Int) {
        self.maxLineBytes = max(maxLineBytes, 16)
    }

    public struct Result: Sendable, Equatable {
        public var entry: LogEntry
        public var maskedValues: Int
        public var truncated: Bool
    }

    public func process(_ line: DockerLogLine, container: String, masker: inout SecretMasker,
                        fallbackTimestamp: @autoclosure () -> String) -> Result {
        let (masked, count) = masker.mask(line.bytes)
        var message: String
        let truncated = masked.count > maxLineBytes || line.droppedBytes > 0
        if masked.count > maxLineBytes {
            var cut = maxLineBytes
            while cut > 0, masked[cut] & 0xC0 == 0x80 { cut -= 1 } // do not split a UTF-8 sequence
            message = String(decoding: masked[..<cut], as: UTF8.self)
        } else {
            message = String(decoding: masked, as: UTF8.self)
        }
        if truncated { message += Self.truncationMarker }
        let ts = line.timestamp?.description ?? fallbackTimestamp()
        return Result(entry: LogEntry(container: container, message: message, timestamp: ts),
                      maskedValues: count, truncated: truncated)
    }
}
