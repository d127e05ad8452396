import AgentCore
@testable import AgentServer
import Foundation
import TestSupport
import Testing

@Suite struct ReceiverStoreTests {
    @Test func deduplicatesAcrossReopen() throws {
        let dir = Paths.tempDir("store")
        do {
            let s = try ReceiverStore(directory: dir)
            #expect(try s.insert(id: "a", body: testPayload("a").body))
            #expect(try !s.insert(id: "a", body: testPayload("a").body))
            #expect(try s.insert(id: "b", body: testPayload("b").body))
        }
        // A torn write at the end (crash mid-append) is skipped and counted.
        let h = FileHandle(forWritingAtPath: dir + "/payloads.jsonl")!
        h.seekToEndOfFile(); h.write(Data(#"{"payload_id":"c","#.utf8)); h.closeFile()
        let s = try ReceiverStore(directory: dir)
        #expect(s.count == 2 && s.corruptAtOpen == 1 && s.contains("a") && s.contains("b"))
        #expect(try !s.insert(id: "b", body: testPayload("b").body))
        #expect(try s.insert(id: "c", body: testPayload("c").body))
        let lines = try String(contentsOfFile: dir + "/payloads.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
    }
}
