import AgentCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a tailer is in a file: which file (inode plus a fingerprint of its first bytes) and how
/// far it has read.
public struct TailPosition: Sendable, Equatable, Codable {
    public var inode: UInt64
    public var offset: Int64
    /// FNV-1a of the file's first `fingerprintLength` bytes (at most `FileTailer.fingerprintBytes`).
    public var fingerprint: UInt64
    public var fingerprintLength: Int

    public init(inode: UInt64, offset: Int64, fingerprint: UInt64 = 0, fingerprintLength: Int = 0) {
        self.inode = inode
        self.offset = offset
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
    }

    /// "inode offset fingerprint length": the position file's one line.
    public var text: String { "\(inode) \(offset) \(fingerprint) \(fingerprintLength)\n" }

    /// Reads `text` back; also the older two-field form "inode offset" (no fingerprint).
    public init?(text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2 || parts.count == 4, let inode = UInt64(parts[0]), let offset = Int64(parts[1]), offset >= 0 else { return nil }
        var fingerprint: UInt64 = 0, length = 0
        if parts.count == 4 {
            guard let f = UInt64(parts[2]), let l = Int(parts[3]), (0...FileTailer.fingerprintBytes).contains(l) else { return nil }
            fingerprint = f; length = l
        }
        self.init(inode: inode, offset: offset, fingerprint: fingerprint, fingerprintLength: length)
    }
}

/// Follows a log file by path, returning complete new lines. Survives rotation by rename (the
/// old file is read to its end through the open descriptor, then the new file from its start),
/// copytruncate (the file shrinks below the read offset) and truncate-and-refill to the same
/// size or more (the first bytes no longer match the fingerprint): in both cases it starts
/// again at 0. Starts at the end of the file unless given a position for the same file, so no
/// history is alerted on. Only regular files are opened, without blocking (a FIFO put in the
/// log's place is refused, never waited on). One `poll` reads at most `maxBytesPerPoll`, so a
/// backlog of any size is taken in bounded steps whose positions the caller can save.
public final class FileTailer {
    /// How many leading bytes identify a file's content (as log shippers fingerprint files).
    public static let fingerprintBytes = 256

    public let path: String
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    private var offset: Int64 = 0
    private var fingerprint: UInt64 = 0
    private var fingerprintLength = 0
    private var splitter: LineSplitter
    /// A line longer than this is cut (the rest is dropped), so a hostile writer cannot grow memory.
    public let maxLineBytes: Int
    /// Most bytes one `poll` reads.
    public let maxBytesPerPoll: Int
    /// Why the file could not be opened the last time it was tried (nil while it is open).
    public private(set) var openError: String?
    /// Times the file was found truncated or replaced in place and read again from the top.
    public private(set) var restarts = 0

    public init(path: String, resume: TailPosition?, maxLineBytes: Int = 16 << 10, maxBytesPerPoll: Int = 1 << 20) {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.maxBytesPerPoll = max(1, maxBytesPerPoll)
        self.splitter = LineSplitter(maxLineBytes: maxLineBytes)
        open(resume: resume)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var position: TailPosition? {
        fd >= 0 ? TailPosition(inode: inode, offset: offset, fingerprint: fingerprint, fingerprintLength: fingerprintLength) : nil
    }
    public var isOpen: Bool { fd >= 0 }
    /// Whether the last `poll` stopped at its byte bound with more of the file left to read.
    public private(set) var hasMore = false

    private func open(resume: TailPosition?) {
        let f: Int32
        do { f = try FileReading.openRegular(path) } catch {
            openError = "\(error)"
            return
        }
        openError = nil
        var st = stat()
        fstat(f, &st)
        fd = f
        inode = UInt64(st.st_ino)
        fingerprint = 0
        fingerprintLength = 0
        if let resume, resume.inode == inode, resume.offset <= Int64(st.st_size),
           resume.fingerprintLength == 0 || Self.hash(fd, resume.fingerprintLength) == resume.fingerprint {
            offset = resume.offset
            updateFingerprint()
        } else if resume != nil {
            offset = 0 // replaced or rewritten while we were stopped: the file is all new lines
        } else {
            offset = Int64(st.st_size) // first start: only new lines
            updateFingerprint()
        }
    }

    /// Reads what was appended since the last call, up to `maxBytesPerPoll` bytes. Returns
    /// complete lines (without newline).
    public func poll() -> [String] {
        var lines = [String]()
        hasMore = false
        if fd < 0 {
            open(resume: TailPosition(inode: 0, offset: 0)) // appeared after start: read it all
            if fd < 0 { return [] }
        }
        var st = stat()
        if fstat(fd, &st) == 0, Int64(st.st_size) < offset || !fingerprintMatches() {
            offset = 0 // copytruncate, or truncated and refilled past where we were
            fingerprint = 0
            fingerprintLength = 0
            splitter.reset()
            restarts += 1
        }
        var budget = maxBytesPerPoll
        readAvailable(into: &lines, budget: &budget)
        if hasMore { return lines } // the rest of this file first; rotation is seen once it is read
        // Renamed away and replaced? Finish the old file (done above), then switch.
        var pst = stat()
        if stat(path, &pst) == 0, UInt64(pst.st_ino) != inode {
            close(fd)
            fd = -1
            splitter.reset()
            open(resume: TailPosition(inode: 0, offset: 0))
            if fd >= 0 { readAvailable(into: &lines, budget: &budget) }
        }
        return lines
    }

    private func readAvailable(into lines: inout [String], budget: inout Int) {
        // Uninitialised scratch space: no 64 KB zero-fill on every poll (once a second).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 << 10) { buf in
            while budget > 0 {
                let n = pread(fd, buf.baseAddress, min(buf.count, budget), off_t(offset))
                if n < 0 { if errno == EINTR { continue }; return }
                if n == 0 { return }
                offset += Int64(n)
                budget -= n
                splitter.feed(UnsafeBufferPointer(rebasing: buf[..<n]), into: &lines)
            }
            // Out of budget: is there more?
            var st = stat()
            hasMore = fstat(fd, &st) == 0 && Int64(st.st_size) > offset
        }
        if fingerprintLength < Self.fingerprintBytes { updateFingerprint() }
    }

    /// Whether the first bytes are still the ones read before (a file truncated and written
    /// again to the same size or beyond has other first bytes: other times, pids, messages).
    private func fingerprintMatches() -> Bool {
        fingerprintLength == 0 || Self.hash(fd, fingerprintLength) == fingerprint
    }

    /// Extends the fingerprint over bytes already read, up to `fingerprintBytes`.
    private func updateFingerprint() {
        let length = Int(min(Int64(Self.fingerprintBytes), offset))
        guard length > fingerprintLength, let h = Self.hash(fd, length) else { return }
        fingerprint = h
        fingerprintLength = length
    }

    /// FNV-1a of the first `length` bytes, nil when fewer can be read.
    static func hash(_ fd: Int32, _ length: Int) -> UInt64? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: fingerprintBytes) { buf in
            let n = pread(fd, buf.baseAddress, length, 0)
            guard n == length else { return nil }
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for i in 0..<n { h = (h ^ UInt64(buf[i])) &* 0x100_0000_01B3 }
            return h
        }
    }
}
