import AgentCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads for every module: /proc files, secrets, config files, saved positions.
public enum FileReading {
    /// Reads a whole file as text (invalid UTF-8 repaired), up to `limit` bytes.
    public static func readToEnd(path: String, limit: Int = 64 << 20) throws -> String {
        String(decoding: try readBytes(path: path, limit: limit), as: UTF8.self)
    }

    /// Reads a whole file with plain read(2) calls until EOF, never trusting st_size (/proc
    /// reports 0). Errors carry errno's text. Only regular files are read (see `openRegular`).
    public static func readBytes(path: String, limit: Int = .max) throws -> [UInt8] {
        let fd = try openRegular(path)
        defer { close(fd) }
        var out = [UInt8]()
        // Uninitialised scratch space (no zero-fill per read: it showed in the cycle's profile).
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 << 10) { chunk in
            while true {
                let n = Glibc.read(fd, chunk.baseAddress, chunk.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AgentError(.fileRead, "cannot read \(path)", cause: Errno.current())
                }
                if n == 0 { return }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<n]))
                if out.count > limit { throw AgentError(.fileRead, "\(path) is larger than \(limit) bytes") }
            }
        }
        return out
    }
}

extension FileReading {
    /// Opens `path` for reading if it is a regular file. The open is non-blocking, so a FIFO
    /// put where a file should be (an auth log, a secret, a config file) is refused at once
    /// instead of blocking the caller until some writer appears; devices, sockets and
    /// directories are refused too. (/proc files are regular files.)
    public static func openRegular(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw AgentError(.fileRead, "cannot open \(path)", cause: Errno.current()) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = Errno.current()
            close(fd)
            throw AgentError(.fileRead, "cannot stat \(path)", cause: e)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw AgentError(.fileRead, "\(path) is not a regular file (\(fileKind(st.st_mode)))")
        }
        // O_NONBLOCK stays set: regular files ignore it for reads, and clearing it would cost two
        // more system calls on every /proc read of every cycle.
        return fd
    }

    static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a file"
        }
    }
}

/// errno as an error with its text (`No such file or directory`).
public struct Errno: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public static func current() -> Errno { Errno(code: errno) }
    public var description: String { String(cString: strerror(code)) }
}
