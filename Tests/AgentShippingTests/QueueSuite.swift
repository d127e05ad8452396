import AgentCore
@testable import AgentShipping
import Foundation
import TestSupport
import Testing

func drainAll(_ q: PayloadQueue) throws -> [String] {
    var ids = [String]()
    while let p = try q.first() {
        ids.append(p.id)
        try q.removeFirst(ifID: p.id)
    }
    return ids
}

/// One behaviour suite run against every queue implementation.
@Suite struct QueueContractTests {
    enum Kind: String, CaseIterable, Sendable { case disk, memory }

    func make(_ kind: Kind, capacity: Int = 10_000) throws -> PayloadQueue {
        switch kind {
        case .disk: try DiskQueue(configuration: DiskQueueConfiguration(directory: Paths.tempDir("q"), segmentBytes: 4096))
        case .memory: MemoryQueue(capacity: capacity)
        }
    }

    @Test(arguments: Kind.allCases)
    func fifoWithExactCounts(_ kind: Kind) throws {
        let q = try make(kind)
        #expect(try q.first() == nil && q.count == 0)
        for i in 0..<30 { try q.append(testPayload("p\(i)")) }
        #expect(q.count == 30 && q.byteCount > 0)
        let first = try q.first()
        #expect(first?.id == "p0")
        #expect(try PayloadCoding.decode(first!.body).payloadID == "p0", "bytes come back intact")
        try q.removeFirst(ifID: "p5") // not the head: ignored
        #expect(q.count == 30)
        #expect(try drainAll(q) == (0..<30).map { "p\($0)" })
        #expect(q.count == 0 && q.byteCount == 0)
    }

    @Test(arguments: Kind.allCases)
    func interleavedAppendAndAck(_ kind: Kind) throws {
        let q = try make(kind)
        var expected = [String]()
        var got = [String]()
        for i in 0..<200 {
            try q.append(testPayload("p\(i)"))
            expected.append("p\(i)")
            if i % 3 == 0, let p = try q.first() { got.append(p.id); try q.removeFirst(ifID: p.id) }
        }
        got += try drainAll(q)
        #expect(got == expected)
    }
}
