@testable import AgentLinux
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
}
