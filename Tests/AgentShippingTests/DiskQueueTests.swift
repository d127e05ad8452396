import AgentCore
@testable import AgentShipping
import Foundation
import TestSupport
import Testing

func segments(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("queue_") }.sorted()
}

func dirBytes(_ dir: String) -> Int {
    segments(dir).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0) }
}

@Suite struct DiskQueueTests {
    @Test func survivesReopenWithExactCountAndCursor() throws {
        let dir = Paths.tempDir("dq")
        let config = DiskQueueConfiguration(directory: dir, segmentBytes: 2048)
        do {
            let q = try DiskQueue(configuration: config)
            for i in 0..<40 { try q.append(testPayload("p\(i)")) }
            for _ in 0..<7 { let p = try q.first()!; try q.removeFirst(ifID: p.id) }
            #expect(q.count == 33)
        }
        #expect(segments(dir).count > 1, "rotated by size")
        #expect(segments(dir).allSatisfy { $0.range(of: #"^queue_\d{12}\.jsonl$"#, options: .regularExpression) != nil })
        let q = try DiskQueue(configuration: config)
        #expect(q.count == 33, "exact after restart")
        #expect(try drainAll(q) == (7..<40).map { "p\($0)" }, "acknowledged records are not delivered again")
        #expect(dirBytes(dir) == 0 && segments(dir).count <= 1, "drained queue leaves no records (one empty segment may stay for the next payload)")
        let again = try DiskQueue(configuration: config)
        #expect(again.count == 0)
        try again.append(testPayload("new"))
        // A restart after the queue was emptied must keep what was appended since.
        let afterEmpty = try DiskQueue(configuration: config)
        #expect(afterEmpty.count == 1)
        #expect(try drainAll(afterEmpty) == ["new"])
    }

    @Test func emptiedTailSegmentIsReusedInPlace() throws {
        // One payload per cycle, delivered at once: the segment is emptied, not deleted and
        // re-created (that cost an open, an unlink and a directory fsync every cycle).
        let dir = Paths.tempDir("reuse")
        let config = DiskQueueConfiguration(directory: dir)
        let q = try DiskQueue(configuration: config)
        try q.append(testPayload("p1"))
        let names = segments(dir)
        #expect(try drainAll(q) == ["p1"])
        func cursorFile() throws -> (inode: UInt64, size: Int) {
            let a = try FileManager.default.attributesOfItem(atPath: dir + "/cursor")
            return ((a[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0, (a[.size] as? NSNumber)?.intValue ?? -1)
        }
        let cursor = try cursorFile()
        for id in ["p2", "p3"] {
            try q.append(testPayload(id))
            #expect(segments(dir) == names, "same file")
            #expect(try drainAll(q) == [id])
            #expect(dirBytes(dir) == 0 && q.byteCount == 0 && q.count == 0)
            #expect(try cursorFile() == cursor, "cursor rewritten in place: same inode, one 48-byte record")
        }
        #expect(cursor.size == 48)
        try q.append(testPayload("p4"))
        let reopened = try DiskQueue(configuration: config)
        #expect(reopened.count == 1 && segments(dir) == names)
        #expect(try drainAll(reopened) == ["p4"], "delivered payloads are not sent again after a restart")
    }

    @Test func recoversFromTornLineGarbageAndEmptySegment() throws {
        let dir = Paths.tempDir("corrupt")
        func rec(_ id: String) -> String { String(decoding: try! testPayload(id).body, as: UTF8.self) + "\n" }
        try (rec("a") + "\u{0}\u{1}garbage{{{\n" + rec("b")).write(toFile: dir + "/queue_000000000001.jsonl", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/queue_000000000002.jsonl", atomically: true, encoding: .utf8)
        let torn = rec("c") + String(rec("d").prefix(40))
        try torn.write(toFile: dir + "/queue_000000000003.jsonl", atomically: true, encoding: .utf8)
        let q = try DiskQueue(configuration: DiskQueueConfiguration(directory: dir))
        #expect(q.count == 3 && q.corruptCount == 2, "garbage line and torn tail counted; empty segment is not a record")
        try q.append(testPayload("e")) // lands on a clean line after the truncated tail
        #expect(try drainAll(q) == ["a", "b", "c", "e"])
        let reopened = try DiskQueue(configuration: DiskQueueConfiguration(directory: dir))
        #expect(reopened.count == 0 && reopened.corruptCount == 0)
    }

    @Test func corruptCursorIsCountedAndEverythingIsKept() throws {
        let dir = Paths.tempDir("cursor")
        let q = try DiskQueue(configuration: DiskQueueConfiguration(directory: dir))
        for i in 0..<3 { try q.append(testPayload("p\(i)")) }
        try "not a cursor".write(toFile: dir + "/cursor", atomically: true, encoding: .utf8)
        let r = try DiskQueue(configuration: DiskQueueConfiguration(directory: dir))
        #expect(r.count == 3 && r.corruptCount == 1)
    }

    @Test func staysUnderTheByteBoundAndCountsDrops() throws {
        let dir = Paths.tempDir("bound")
        let max = 16 * 1024
        let q = try DiskQueue(configuration: DiskQueueConfiguration(directory: dir, segmentBytes: 1 << 20, maxBytes: max))
        var drops = 0
        q.onDrop = { _, n in drops += n }
        for i in 0..<500 {
            try q.append(testPayload("p\(i)", pad: 200))
            #expect(dirBytes(dir) <= max)
        }
        #expect(q.droppedCount > 0 && q.droppedCount == drops)
        #expect(q.count + q.droppedCount == 500)
        let ids = try drainAll(q)
        #expect(ids.last == "p499" && ids == ids.sorted { Int($0.dropFirst())! < Int($1.dropFirst())! }, "newest kept, order kept")
    }
}

/// Real filesystem failures on a small tmpfs (mount needs root, as CI has).
@Suite(.serialized) struct DiskQueueFilesystemTests {
    func mountTmpfs(_ dir: String, size: String) async throws {
        let out = try await runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir])
        try #require(out.isEmpty, "mount tmpfs failed: \(out)")
    }

    @Test func diskFullFallsBackToMemoryAndRecovers() async throws {
        let dir = Paths.tempDir("full")
        try await mountTmpfs(dir, size: "64k")
        defer { cleanUp("/bin/umount", ["-l", dir]) }
        let q = DeliveryQueue(disk: DiskQueueConfiguration(directory: dir + "/queue", maxBytes: 10 << 20), memoryCapacity: 1000,
                              logger: .init(label: "t"))
        try Data(count: 40 * 1024).write(to: URL(fileURLWithPath: dir + "/filler"))
        var durable = [Bool]()
        for i in 0..<60 { durable.append(q.append(try testPayload("p\(i)", pad: 300))) }
        #expect(durable.contains(true) && durable.contains(false))
        #expect(q.diskError?.contains("No space left") == true, "\(q.diskError ?? "nil")")
        #expect(q.count == 60, "nothing lost: memory holds what the disk could not")
        try FileManager.default.removeItem(atPath: dir + "/filler")
        #expect(q.append(try testPayload("after")), "disk works again")
        #expect(q.diskError == nil)
        var ids = [String]()
        while let p = q.first() { ids.append(p.id); q.removeFirst(ifID: p.id) }
        #expect(ids == (0..<60).map { "p\($0)" } + ["after"], "order kept across the fallback")
    }

    @Test func readOnlyFilesystemIsReported() async throws {
        let dir = Paths.tempDir("ro")
        try await mountTmpfs(dir, size: "1m")
        defer { cleanUp("/bin/umount", ["-l", dir]) }
        _ = try await runProcess("/bin/mount", ["-o", "remount,ro", dir])
        let q = DeliveryQueue(disk: DiskQueueConfiguration(directory: dir + "/queue"), memoryCapacity: 10, logger: .init(label: "t"))
        #expect(q.diskError?.contains("Read-only") == true, "\(q.diskError ?? "nil")")
        #expect(!q.append(try testPayload("x")) && q.count == 1)
    }
}
