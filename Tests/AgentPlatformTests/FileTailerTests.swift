@testable import AgentPlatform
import Foundation
import TestSupport
import Testing

@Suite struct FileTailerTests {
    func append(_ path: String, _ text: String) {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile(); h.write(Data(text.utf8)); h.closeFile()
    }

    @Test func startsAtTheEndThenFollows() {
        let p = Paths.tempDir("tail") + "/auth.log"
        append(p, "old 1\nold 2\n")
        let t = FileTailer(path: p, resume: nil)
        #expect(t.poll().isEmpty, "history is not replayed on first start")
        append(p, "new 1\nnew ")
        #expect(t.poll() == ["new 1"])
        append(p, "2\n")
        #expect(t.poll() == ["new 2"], "a line split across writes is joined")
    }

    @Test func renameAndCreateRotationLosesAndRepeatsNothing() throws {
        let dir = Paths.tempDir("rot")
        let p = dir + "/auth.log"
        append(p, "")
        let t = FileTailer(path: p, resume: nil)
        append(p, "a\n")
        #expect(t.poll() == ["a"])
        append(p, "b\n") // written after our last read, before rotation
        try FileManager.default.moveItem(atPath: p, toPath: dir + "/auth.log.1")
        append(dir + "/auth.log.1", "c\n") // late write by the daemon into the renamed file
        append(p, "d\n")
        #expect(t.poll() == ["b", "c", "d"])
        append(p, "e\n")
        #expect(t.poll() == ["e"])
    }

    @Test func copytruncateStartsAgainFromTheTop() throws {
        let p = Paths.tempDir("trunc") + "/auth.log"
        append(p, "")
        let t = FileTailer(path: p, resume: nil)
        append(p, "one\ntwo\n")
        #expect(t.poll() == ["one", "two"])
        try Data().write(to: URL(fileURLWithPath: p)) // truncate in place, same inode
        append(p, "three\n")
        #expect(t.poll() == ["three"])
    }

    @Test func resumesFromASavedPositionAndDetectsRotationWhileStopped() throws {
        let dir = Paths.tempDir("resume")
        let p = dir + "/auth.log"
        append(p, "")
        let t = FileTailer(path: p, resume: nil)
        append(p, "x\n")
        _ = t.poll()
        let saved = t.position!
        append(p, "while stopped\n")
        #expect(FileTailer(path: p, resume: saved).poll() == ["while stopped"])
        try FileManager.default.moveItem(atPath: p, toPath: dir + "/auth.log.1")
        append(p, "fresh file\n")
        #expect(FileTailer(path: p, resume: saved).poll() == ["fresh file"], "new inode: read from its start")
    }

    @Test func missingFileIsPickedUpWhenItAppearsAndLongLinesAreCut() {
        let p = Paths.tempDir("late") + "/auth.log"
        let t = FileTailer(path: p, resume: nil, maxLineBytes: 8)
        #expect(!t.isOpen && t.poll().isEmpty)
        append(p, "0123456789abcdef\nok\n")
        #expect(t.poll() == ["01234567", "ok"])
    }

    /// Truncated and refilled within one poll to the same size: the size alone says nothing
    /// happened, the first bytes say otherwise.
    @Test func truncateAndRefillToTheSameSizeIsRead() throws {
        let p = Paths.tempDir("refill") + "/auth.log"
        append(p, "")
        let t = FileTailer(path: p, resume: nil)
        append(p, "Nov 30 09:10:27 h sshd[1]: first\n")
        #expect(t.poll() == ["Nov 30 09:10:27 h sshd[1]: first"])
        try Data("Nov 30 09:10:28 h sshd[2]: other\n".utf8).write(to: URL(fileURLWithPath: p)) // same length, same inode
        #expect(t.poll() == ["Nov 30 09:10:28 h sshd[2]: other"])
        #expect(t.restarts == 1)
        // A saved position whose fingerprint no longer matches reads the file from the top.
        let saved = t.position!
        #expect(TailPosition(text: saved.text) == saved, "the position file keeps the fingerprint")
        try Data("Nov 30 09:10:29 h sshd[3]: third\n".utf8).write(to: URL(fileURLWithPath: p))
        #expect(FileTailer(path: p, resume: saved).poll() == ["Nov 30 09:10:29 h sshd[3]: third"])
        #expect(TailPosition(text: "12 34\n") == TailPosition(inode: 12, offset: 34), "the older two-field form")
        #expect(TailPosition(text: "12 -1\n") == nil && TailPosition(text: "x y") == nil)
    }

    /// A backlog is read in bounded steps: never more than maxBytesPerPoll per call, nothing lost.
    @Test func aBacklogIsReadInBoundedSteps() throws {
        let p = Paths.tempDir("backlog") + "/auth.log"
        append(p, "")
        let t = FileTailer(path: p, resume: nil, maxBytesPerPoll: 1000)
        let lines = (0..<2_000).map { "line \($0) " + String(repeating: "x", count: 40) }
        append(p, lines.joined(separator: "\n") + "\n")
        var got = [String]()
        var polls = 0
        repeat {
            let before = t.position!.offset
            got += t.poll()
            #expect(t.position!.offset - before <= 1000)
            polls += 1
        } while t.hasMore && polls < 10_000
        #expect(got == lines && polls >= 90)
    }

    /// A FIFO put where the log should be is refused at once (never blocks in open), and the
    /// tailer picks up a regular file that replaces it.
    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let p = Paths.tempDir("fifo") + "/auth.log"
        #expect(mkfifo(p, 0o600) == 0)
        let t = FileTailer(path: p, resume: nil)
        #expect(!t.isOpen && t.openError?.contains("FIFO") == true)
        #expect(t.poll().isEmpty)
        #expect { try FileReading.readBytes(path: p) } throws: { "\($0)".contains("not a regular file") }
        try FileManager.default.removeItem(atPath: p)
        append(p, "now a file\n")
        #expect(t.poll() == ["now a file"] && t.openError == nil)
    }
}
