import AgentCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Prints each verified payload as one JSON line on stdout; with a store, only payloads not
/// seen before are stored and printed.
public final class StdoutSink: PayloadSink {
    private let lock = Mutex<Void>(())
    private let store: ReceiverStore?

    public init(store: ReceiverStore? = nil) { self.store = store }

    public var deduplicates: Bool { store != nil }

    public func accept(_ payload: Payload, body: [UInt8]) async throws -> SinkResult {
        if let store, try !store.insert(id: payload.payloadID, body: body) { return .duplicate }
        print(payload, body: body)
        return .stored
    }

    /// The payload as one JSON line (no newline): as received, or re-encoded onto one line when
    /// it was sent with line breaks.
    public static func line(_ payload: Payload, body: [UInt8]) -> [UInt8] {
        body.contains(0x0A) ? ((try? PayloadCoding.encode(payload)) ?? []) : body
    }

    private func print(_ payload: Payload, body: [UInt8]) {
        let line = Self.line(payload, body: body)
        lock.withLock { _ in
            // One write(2) per line, unbuffered, so a reader of the pipe sees whole lines at once.
            var bytes = line
            bytes.append(0x0A)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
