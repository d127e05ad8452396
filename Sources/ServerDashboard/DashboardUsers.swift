import AgentCore
import Crypto
import FoundationEssentials
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Who may see the dashboard (`--dashboard-users FILE`): one `name: bcrypt-hash` per line, as
/// Prometheus's `basic_auth_users` and `htpasswd -B` write them (`$2a$`, `$2b$` or `$2y$`), `#`
/// comments. Requests carry HTTP Basic credentials; a password is checked with bcrypt on NIO's
/// thread pool (never on an event loop), and a right one is remembered (by a SHA-256 of it, never
/// the password) for `rememberFor`, so a page reloading every 15 s costs one bcrypt per user and
/// window instead of one per load. An unknown user costs a bcrypt too, so the time of a refusal
/// does not tell which names exist. Replaced whole on SIGHUP; the remembered checks go with it.
public final class DashboardUsers: Sendable {
    /// At most this many users in a file, and names of 1 to 64 of `A-Z a-z 0-9 . _ @ -`.
    public static let maxUsers = 100
    public static let rememberFor: Duration = .seconds(600)
    /// Remembered checks at most (all forgotten when full: an attacker cannot grow the table).
    static let maxRemembered = 1_024

    /// bcrypt checks running at most: more wrong passwords at once are refused without one, so a
    /// flood of them costs at most this many cores' worth of hashing.
    static let maxChecking = 4

    struct State {
        var hashes: [String: String]
        var checking = 0
        /// By name, a NUL and the password's SHA-256.
        var remembered: [[UInt8]: ContinuousClock.Instant] = [:]
    }
    private let state: Mutex<State>
    /// What an unknown user's password is checked against: a hash of the same cost as the users'.
    private let decoy: String

    public init(_ hashes: [String: String]) {
        state = Mutex(State(hashes: hashes))
        let cost = hashes.values.compactMap { UInt8($0.dropFirst(4).prefix(2)) }.max() ?? 10
        decoy = Bcrypt.hash("decoy", cost: cost)
    }

    public var names: [String] { state.withLock { $0.hashes.keys.sorted() } }

    var checksInFlight: Int { state.withLock { $0.checking } }

    public func replace(_ hashes: [String: String]) {
        state.withLock { $0 = State(hashes: hashes) }
    }

    /// The users of a file's bytes. Errors name the line and what is wrong, never a hash.
    public static func parse(_ bytes: [UInt8], path: String) throws(AgentError) -> [String: String] {
        var users = [String: String]()
        for (n, raw) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            func bad(_ why: String) -> AgentError { AgentError(.invalidConfiguration, "\(path) line \(n + 1): \(why)") }
            guard let colon = line.firstIndex(of: ":") else { throw bad("expected name: bcrypt-hash") }
            let name = String(line[..<colon].trimmingSpaces())
            let hash = String(line[line.index(after: colon)...].trimmingSpaces())
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(isNameByte) else {
                throw bad("a name is 1 to 64 of A-Z a-z 0-9 . _ @ -")
            }
            guard isBcrypt(hash) else { throw bad("not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04 to 31, 53 characters after it)") }
            guard users[name] == nil else { throw bad("\(name) appears twice") }
            users[name] = hash
            guard users.count <= maxUsers else { throw bad("more than \(maxUsers) users") }
        }
        guard !users.isEmpty else { throw AgentError(.invalidConfiguration, "\(path): no user") }
        return users
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// `$2[aby]$NN$` and 53 characters of bcrypt's base64 (22 of salt, 31 of hash).
    static func isBcrypt(_ h: String) -> Bool {
        let b = Array(h.utf8)
        guard b.count == 60, b[0] == UInt8(ascii: "$"), b[1] == UInt8(ascii: "2"), "aby".utf8.contains(b[2]), b[3] == UInt8(ascii: "$"),
              b[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: b[4...5], as: UTF8.self)), (4...31).contains(cost) else { return false }
        return b[7...].allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "/"): true
            default: false
            }
        }
    }

    /// The user an `Authorization` header's Basic credentials name, when the password is right.
    public func user(authorization: String?) async -> String? {
        guard let (name, password) = Self.basicCredentials(authorization) else { return nil }
        let key = Array(name.utf8) + [0] + Array(SHA256.hash(data: Array(password.utf8)))
        let now = ContinuousClock.now
        enum Step: Equatable { case known, busy, check(String?) }
        let step = state.withLock { s -> Step in
            if let until = s.remembered[key], until > now, s.hashes[name] != nil { return .known }
            guard s.checking < Self.maxChecking else { return .busy }
            s.checking += 1
            return .check(s.hashes[name])
        }
        guard case .check(let hash) = step else { return step == .known ? name : nil }
        // htpasswd's $2y$ is bcrypt's $2b$ (both fixed the same 2011 bug); the library knows $2b$.
        let target = hash.map { $0.hasPrefix("$2y$") ? "$2b$" + $0.dropFirst(4) : $0 } ?? decoy
        let right = (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }) ?? false
        state.withLock { $0.checking -= 1 }
        guard right, let hash else { return nil }
        state.withLock { s in
            // Only if the users were not replaced meanwhile (a reload forgets what was checked).
            guard s.hashes[name] == hash else { return }
            if s.remembered.count >= Self.maxRemembered { s.remembered.removeAll() }
            s.remembered[key] = now + Self.rememberFor
        }
        return name
    }

    /// `Basic base64(name:password)` (the scheme's name in any case).
    static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.utf8.count <= 1_024, header.prefix(6).lowercased() == "basic " else { return nil }
        guard let data = Data(base64Encoded: String(header.dropFirst(6).trimmingSpaces())),
              let text = String(validating: Array(data), as: UTF8.self), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
