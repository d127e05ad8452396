import AgentCore
import AgentPlatform
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads files under a procfs root. The root is a parameter so tests and containers
/// (`--proc-root /host/proc`) can point it elsewhere.
public struct ProcFS: Sendable {
    public let root: String

    public init(root: String = "/proc") {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    /// Reads `root/relative` to EOF. /proc files report st_size 0, so the size is never trusted.
    public func read(_ relative: String) throws -> String {
        try FileReading.readToEnd(path: root + "/" + relative)
    }

    /// `root/relative`, for callers that read the same file every cycle.
    public func path(_ relative: String) -> String { root + "/" + relative }
}
