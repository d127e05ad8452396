import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Paths of the package under test.
public enum Paths {
    public static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    /// Recorded real inputs (/proc snapshots, golden payloads).
    public static let fixtures = packageRoot + "/Tests/Fixtures"
    public static let support = packageRoot + "/Tests/Support"

    public static func fixtureText(_ relative: String) throws -> String {
        try String(contentsOfFile: fixtures + "/" + relative, encoding: .utf8)
    }

    /// The built agent binary. Integration tests fail (never skip) when it is missing.
    public static func agentBinary() throws -> String { try built("monitoring-agent", override: "AGENT_BIN") }

    /// The server executable (`monitoring-server`), beside the agent's.
    public static func serverBinary() throws -> String { try built("monitoring-server", override: "SERVER_BIN") }

    /// A product of this package: the path in the variable `override`, else the debug build's.
    static func built(_ product: String, override: String) throws -> String {
        let candidates = [ProcessInfo.processInfo.environment[override], packageRoot + "/.build/debug/" + product].compactMap { $0 }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
        Issue.record("\(product) not found (tried \(candidates)); run `swift build` first or set \(override)")
        throw PeerError("\(product) missing")
    }

    public static func tempDir(_ name: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ma-\(name)-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

public struct PeerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A free TCP port on loopback (bind to 0, read it back, release it).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A child process whose output goes to files; stopped by PID when the test ends.
public final class Peer: @unchecked Sendable {
    public let process = Process()
    public let stdoutPath: String
    public let stderrPath: String
    public let name: String

    public init(_ name: String, _ executable: String, _ args: [String], env: [String: String] = [:], dir: String) throws {
        self.name = name
        stdoutPath = dir + "/\(name).out"
        stderrPath = dir + "/\(name).err"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for k in ["SERVER_URL", "SECRET", "SECRET_FILE", "INTERVAL", "HEALTH_ADDR", "LOG_LEVEL"] { environment[k] = nil }
        environment.merge(env) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: dir) // relative paths (./queue) stay per test
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds (the peer printed that it is ready). Fails at once, with the
    /// peer's stderr, when it exits first; the timeout is a bound for a loaded machine, not a goal.
    public func waitReady(_ what: String, timeout: Double = 30, _ condition: @escaping (Peer) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if condition(self) { return }
            if !process.isRunning {
                Issue.record("\(name) exited (\(process.terminationStatus)) before \(what): \(stderr.suffix(2000))")
                throw PeerError("\(name) exited before \(what)")
            }
            if Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if condition(self) { return }
        Issue.record("timed out after \(timeout)s waiting for: \(what); stderr: \(stderr.suffix(2000))")
        throw PeerError("timeout: \(what)")
    }

    /// Waits for a whole first line `ready <port>` and returns the port. The line is read only
    /// once its newline is there: a peer's print may reach the file in pieces, and "ready " alone
    /// is not yet a port.
    public func waitReadyPort(_ what: String, timeout: Double = 30) async throws -> Int {
        func port(_ peer: Peer) -> Int? {
            let out = peer.stdout
            guard let end = out.firstIndex(of: "\n") else { return nil }
            let words = out[..<end].split(separator: " ")
            guard words.count == 2, words[0] == "ready" else { return nil }
            return Int(words[1])
        }
        try await waitReady(what, timeout: timeout) { port($0) != nil }
        guard let found = port(self) else { throw PeerError("\(name): no port in its first line: \(stdout.prefix(200))") }
        return found
    }

    public func signal(_ sig: Int32) { if process.isRunning { kill(pid, sig) } }

    /// Waits for exit; returns the status, or nil on timeout.
    public func waitExit(timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Polls until `condition` holds or the timeout passes.
public func eventually(timeout: Double = 15, _ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? condition()) == true { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    // One look after the deadline: a task that could not run for a while (a busy machine) must
    // not fail on a condition that has held since.
    if (try? condition()) == true { return }
    Issue.record("timed out after \(timeout)s waiting for: \(what)")
    throw PeerError("timeout: \(what)")
}

/// `eventually` for conditions that need to await (an HTTP request).
public func eventuallyAsync(timeout: Double = 15, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    if (try? await condition()) == true { return }
    Issue.record("timed out after \(timeout)s waiting for: \(what)")
    throw PeerError("timeout: \(what)")
}

/// The independent Python verifier (Tests/Support/verify_receiver.py).
public final class PythonVerifier {
    public let peer: Peer
    public let port: Int
    public let outPath: String

    public init(dir: String, secretFile: String, statuses: [Int] = [], retryAfter: String? = nil, tls: (cert: String, key: String)? = nil, dateOffset: Int = 0,
                gzipStatus: Int? = nil) async throws {
        port = freePort()
        outPath = dir + "/verifier.jsonl"
        var args = [Paths.support + "/verify_receiver.py", "--port", "\(port)", "--secret-file", secretFile, "--out", outPath]
        if !statuses.isEmpty { args += ["--statuses", statuses.map(String.init).joined(separator: ",")] }
        if let retryAfter { args += ["--retry-after", retryAfter] }
        if let tls { args += ["--cert", tls.cert, "--key", tls.key] }
        if dateOffset != 0 { args += ["--date-offset", "\(dateOffset)"] }
        if let gzipStatus { args += ["--gzip-status", "\(gzipStatus)"] }
        peer = try Peer("verifier", "/usr/bin/env", ["python3"] + args, dir: dir)
        try await peer.waitReady("python verifier ready") { $0.stdout.contains("ready") }
    }

    public struct Record: Decodable {
        public let path: String
        public let content_type: String?
        public let timestamp: String
        public let signature: String
        public let valid: Bool
        public let received_at: Double
        public let status: Int
        public let body: String
        /// `Content-Encoding` of the request (the body above is decoded) and its bytes on the wire.
        public let encoding: String?
        public let wire_bytes: Int?
    }

    /// Requests answered with `--gzip-status` without reading them.
    public func refusedGzipCount() -> Int {
        guard let text = try? String(contentsOfFile: outPath, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"refused\": true") }.count
    }

    public func records() -> [Record] {
        guard let text = try? String(contentsOfFile: outPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }
}

public func writeSecret(_ dir: String, _ value: String) -> String {
    let path = dir + "/secret"
    FileManager.default.createFile(atPath: path, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600])
    return path
}


/// Runs a tool to completion with `stdin`; returns stdout and stderr together. The wait holds no
/// thread: Swift Testing runs tests in parallel on the concurrency pool, which has one thread per
/// core, so a blocking wait on a 2-core machine stalls every other test (and their deadlines pass
/// while they cannot run).
public func runProcess(_ path: String, _ args: [String], stdin: [UInt8] = []) async throws -> String {
    try await runTool(path, args, stdin: stdin).output
}

/// `runProcess` with the exit status.
public func runTool(_ path: String, _ args: [String], stdin: [UInt8] = []) async throws -> (status: Int32, output: String) {
    let dir = Paths.tempDir("run")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    FileManager.default.createFile(atPath: dir + "/in", contents: Data(stdin))
    FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.standardInput = FileHandle(forReadingAtPath: dir + "/in")
    let out = FileHandle(forWritingAtPath: dir + "/out")
    p.standardOutput = out
    p.standardError = out
    try await runToExit(p)
    try? out?.close()
    return (p.terminationStatus, (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "")
}

/// Starts `p` and waits for it to exit without holding a thread (see `runProcess`).
public func runToExit(_ p: Process) async throws {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
        p.terminationHandler = { _ in done.resume() }
        do { try p.run() } catch {
            p.terminationHandler = nil
            done.resume(throwing: error)
        }
    }
}

/// Runs a clean-up (umount, rm -f, stopping a daemon) from a `defer`, which cannot await: it blocks
/// its thread, so only for quick commands. Output is discarded (a daemon the command leaves behind
/// may hold any pipe open).
public func cleanUp(_ path: String, _ args: [String]) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return }
    p.waitUntilExit()
}

/// The PostgreSQL cluster scripts/test.sh started (`MA_POSTGRES_URL`). Missing means the test
/// fails, never skips.
public enum PostgresPeer {
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["MA_POSTGRES_URL"], !url.isEmpty else {
            Issue.record("MA_POSTGRES_URL unset: run the tests through scripts/test.sh, which starts PostgreSQL")
            throw PeerError("no PostgreSQL")
        }
        return url
    }

    /// A new, empty database on that cluster; returns its URL.
    public static func freshDatabase(_ name: String) async throws -> String {
        let admin = try url()
        let db = "ma_\(name)_\(UUID().uuidString.prefix(8).lowercased())"
        let out = try await psql(admin, "CREATE DATABASE \(db)")
        guard out.contains("CREATE DATABASE") else { throw PeerError("CREATE DATABASE failed: \(out)") }
        return admin.replacingOccurrences(of: "/postgres?", with: "/\(db)?")
    }

    /// Runs one SQL command with psql (unaligned, tuples only); returns its output.
    public static func psql(_ url: String, _ sql: String) async throws -> String {
        try await runProcess("/usr/bin/psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }
}
