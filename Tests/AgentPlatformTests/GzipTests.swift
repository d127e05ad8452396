import AgentPlatform
import Foundation
import TestSupport
import Testing

@Suite struct GzipTests {
    static let text = Array((0..<2_000).map { "line \($0): GET /api/v1/items?page=\($0 % 17) 200\n" }.joined().utf8)

    @Test func roundTripsAndShrinksText() throws {
        let gz = Gzip.compress(Self.text)
        #expect(gz.count < Self.text.count / 4)
        #expect(try Gzip.decompress(gz, limit: Self.text.count) == Self.text)
        #expect(try Gzip.decompress(Gzip.compress([]), limit: 0) == [])
    }

    /// Interoperates with another implementation: Python's gzip module reads ours, we read its.
    @Test func interoperatesWithPythonsGzip() async throws {
        let dir = Paths.tempDir("gzip")
        let ours = dir + "/ours.gz", theirs = dir + "/theirs.gz"
        FileManager.default.createFile(atPath: ours, contents: Data(Gzip.compress(Self.text)))
        let script = "import gzip,sys; d=gzip.open(sys.argv[1]).read(); open(sys.argv[2],'wb').write(gzip.compress(d)); print(len(d))"
        let out = try await runProcess("/usr/bin/env", ["python3", "-c", script, ours, theirs])
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.text.count)")
        let back = try [UInt8](Data(contentsOf: URL(fileURLWithPath: theirs)))
        #expect(try Gzip.decompress(back, limit: 1 << 20) == Self.text)
    }

    /// A zip bomb (64 MiB of zeros in about 64 KB) stops at the limit: an error, not 64 MiB.
    @Test func aZipBombStopsAtTheLimit() {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 100_000)
        #expect(throws: Gzip.Failure.tooLarge(limit: 4 << 20)) { try Gzip.decompress(bomb, limit: 4 << 20) }
    }

    @Test func brokenStreamsAreRefused() {
        let gz = Gzip.compress(Self.text)
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array(gz.prefix(gz.count / 2)), limit: 1 << 20) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array(gz.dropLast(4)), limit: 1 << 20) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Self.text, limit: 1 << 20) }
        var flipped = gz
        flipped[gz.count / 2] ^= 0xFF
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(flipped, limit: 1 << 20) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress([0x1F, 0x8B], limit: 1 << 20) }
    }
}
