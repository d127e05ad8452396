import AgentCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a tailer is in a file: which file (inode) and how far it has read.
public struct TailPosition: Sendable, Equatable, Codable {
    public var inode: UInt64
    public var offset: Int64
    public init(inode: UInt64, offset: Int64) { self.inode = inode; self.offset = offset }
}

/// Follows a log file by path, returning complete new lines. Survives rotation by rename (the
/// old file is read to its end through the open descriptor, then the new file from its start)
/// and by copytruncate (the file shrinks below the read offset: start again at 0). Starts at
/// the end of the file unless given a position for the same inode, so no history is alerted on.
public final class FileTailer {
    public let path: String
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    private var offset: Int64 = 0
    private var splitter: LineSplitter
    /// A line longer than this is cut (the rest is dropped), so a hostile writer cannot grow memory.
    public let maxLineBytes: Int

    public init(path: String, resume: TailPosition?, maxLineBytes: Int = 16 << 10) {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.splitter = LineSplitter(maxLineBytes: maxLineBytes)
        open(resume: resume)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var position: TailPosition? { fd >= 0 ? TailPosition(inode: inode, offset: offset) : nil }
    public var isOpen: Bool { fd >= 0 }

    private func open(resume: TailPosition?) {
        let f = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return }
        var st = stat()
        fstat(f, &st)
        fd = f
        inode = UInt64(st.st_ino)
        if let resume, resume.inode == inode, resume.offset <= Int64(st.st_size) {
            offset = resume.offset
        } else if resume != nil, resume?.inode != inode {
            offset = 0 // rotated while we were stopped: the new file is all new lines
        } else {
            offset = Int64(st.st_size) // first start: only new lines
        }
    }

    /// Reads what was appended since the last call. Returns complete lines (without newline).
    public func poll() -> [String] {
        var lines = [String]()
        if fd < 0 {
            open(resume: TailPosition(inode: 0, offset: 0)) // appeared after start: read it all
            if fd < 0 { return [] }
        }
        var st = stat()
        if fstat(fd, &st) == 0, Int64(st.st_size) < offset {
            offset = 0 // copytruncate
            splitter.reset()
        }
        readAvailable(into: &lines)
        // Renamed away and replaced? Finish the old file (done above), then switch.
        var pst = stat()
        if stat(path, &pst) == 0, UInt64(pst.st_ino) != inode {
            close(fd)
            fd = -1
            splitter.reset()
            open(resume: TailPosition(inode: 0, offset: 0))
            readAvailable(into: &lines)
        }
        return lines
    }

    private func readAvailable(into lines: inout [String]) {
        // Uninitialised scratch space: no 64 KB zero-fill on every poll (once a second).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 << 10) { buf in
            while true {
                let n = pread(fd, buf.baseAddress, buf.count, off_t(offset))
                if n < 0 { if errno == EINTR { continue }; return }
                if n == 0 { return }
                offset += Int64(n)
                splitter.feed(UnsafeBufferPointer(rebasing: buf[..<n]), into: &lines)
            }
        }
    }
}
