import Foundation
import TestSupport
import Testing

/// Every saved fuzz input (Tests/Fixtures/fuzz/TARGET/: crashes found by scripts/fuzz.sh and the
/// hostile cases of docs/SECURITY.md) replayed through its target by the plain build of
/// agent-fuzz: a trap in any parser fails this test.
@Suite struct FuzzReplayTests {
    static let dir = Paths.fixtures + "/fuzz"
    static var targets: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    @Test func everyTargetDirectoryNamesATarget() async throws {
        let known = try await runProcess(Paths.packageRoot + "/.build/debug/agent-fuzz", ["list"]).split(separator: "\n").map(String.init)
        #expect(known.count >= 14)
        #expect(!Self.targets.isEmpty)
        for t in Self.targets { #expect(known.contains(t), "Tests/Fixtures/fuzz/\(t) is no target") }
    }

    @Test(arguments: targets)
    func savedInputsReplayWithoutATrap(_ target: String) async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir + "/" + target).sorted().map { Self.dir + "/" + target + "/" + $0 }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.packageRoot + "/.build/debug/agent-fuzz")
        p.arguments = [target] + files
        p.standardOutput = FileHandle.nullDevice
        try await runToExit(p)
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "\(target): status \(p.terminationStatus)")
    }
}
