import AgentCore
#if canImport(Glibc)
import Glibc
#endif

/// Thin, error-coded wrappers over the POSIX calls that write state (the queue, saved positions
/// and cursors, the receiver's store). Every failure names the
/// path and errno's text, so "disk full" and "read-only file system" reach logs and /healthz.
public enum FileOps {
    public static func fail(_ what: String, _ path: String) -> AgentError {
        AgentError(.queueIO, "\(what) \(path)", cause: Errno.current())
    }

    public static func openAppend(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot open", path) }
        return fd
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write", path)
            }
            off += n
        }
    }

    /// Opens (creating) a file for in-place rewrites with `pwriteAll`.
    public static func openReadWrite(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot open", path) }
        return fd
    }

    /// Writes all of `bytes` at `offset` (one pwrite unless interrupted or short).
    public static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, $0.count, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write", path)
            }
            done += n
        }
    }

    public static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw fail("cannot fsync", path) }
    }

    /// fsync of a directory makes a newly created or renamed entry durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open directory", path) }
        defer { close(fd) }
        try sync(fd, path: path)
    }

    public static func readAll(_ path: String) throws -> [UInt8] {
        try FileReading.readBytes(path: path)
    }

    public static func pread(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open", path) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, length - got, off_t(offset + got)) }
            if n < 0 { if errno == EINTR { continue }; throw fail("cannot read", path) }
            if n == 0 { throw AgentError(.queueIO, "unexpected end of \(path)") }
            got += n
        }
        return out
    }

    public static func truncate(_ path: String, to length: Int) throws {
        guard Glibc.truncate(path, off_t(length)) == 0 else { throw fail("cannot truncate", path) }
    }

    /// `ftruncate` on an open descriptor: no path lookup (`path` only names it in errors).
    public static func truncate(_ fd: Int32, to length: Int, path: String) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw fail("cannot truncate", path) }
    }

    public static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw fail("cannot remove", path) }
    }

    public static func makeDirectory(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 { return }
        var partial = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            partial += "/" + part
            if mkdir(partial, 0o700) != 0 && errno != EEXIST { throw fail("cannot create directory", partial) }
        }
    }

    public static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw fail("cannot list", dir) }
        defer { closedir(d) }
        var names = [String]()
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func size(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw fail("cannot stat", path) }
        return Int(st.st_size)
    }

    /// Writes a small state file (a saved position or cursor): creates its directory, replaces
    /// it atomically, no fsync (losing the last update only means reading a little again).
    public static func writeStateFile(_ path: String, _ text: String) throws {
        try makeDirectory(path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ".")
        try replaceAtomically(path, with: Array(text.utf8), durable: false)
    }

    /// Replaces `path` atomically: write a temporary file, optionally fsync it, rename over.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8], durable: Bool = true) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot open", tmp) }
        do {
            try writeAll(fd, bytes, path: tmp)
            if durable { try sync(fd, path: tmp) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw fail("cannot rename to", path) }
    }
}
