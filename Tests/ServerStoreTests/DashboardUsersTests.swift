import AgentCore
import Foundation
import HummingbirdBcrypt
@testable import ServerDashboard
import Testing

/// The dashboard's users file and its HTTP Basic check.
@Suite struct DashboardUsersTests {
    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test func readsUsersAsHtpasswdAndPrometheusWriteThem() throws {
        let a = Bcrypt.hash("alpha pw", cost: 4), b = Bcrypt.hash("beta", cost: 4)
        let y = "$2y$" + b.dropFirst(4)
        let users = try DashboardUsers.parse(Array("# operators\n\nalice: \(a)\n  bob.ops@example-1 :\t\(y)  \n".utf8), path: "users")
        #expect(users == ["alice": a, "bob.ops@example-1": y])
    }

    @Test(arguments: [
        ("alice", "line 1: expected name: bcrypt-hash"),
        ("alice: secret-in-plain-text", "line 1: not a bcrypt hash"),
        ("al ice: HASH", "line 1: a name is 1 to 64"),
        (": HASH", "line 1: a name is 1 to 64"),
        ("alice: HASH\nalice: HASH", "line 2: alice appears twice"),
        ("alice: $2x$04$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0", "line 1: not a bcrypt hash"),
        ("alice: $2b$03$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0", "line 1: not a bcrypt hash"),
        ("# nobody", "users: no user"),
    ])
    func refusesWhatIsNotAUsersFileNamingTheLineNeverTheHash(_ text: String, _ expected: String) {
        let hash = "$2b$04$" + String(repeating: "A", count: 53)
        do {
            _ = try DashboardUsers.parse(Array(text.replacingOccurrences(of: "HASH", with: hash).utf8), path: "users")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("secret-in-plain-text") && !error.description.contains(hash))
        }
    }

    @Test func aRightPasswordIsAUserAndNothingElseIs() async throws {
        let users = DashboardUsers(["alice": Bcrypt.hash("s3cret: with colon", cost: 4), "bob": "$2y$" + Bcrypt.hash("pw", cost: 4).dropFirst(4)])
        #expect(await users.user(authorization: Self.basic("alice", "s3cret: with colon")) == "alice", "the password may hold a colon")
        #expect(await users.user(authorization: Self.basic("bob", "pw")) == "bob", "htpasswd's $2y$")
        #expect(await users.user(authorization: "bAsIc " + Data("bob:pw".utf8).base64EncodedString()) == "bob", "the scheme in any case")
        for header in [nil, "", "Basic", "Basic !!!", "Bearer abc", Self.basic("alice", "wrong"), Self.basic("carol", "pw"),
                       Self.basic("alice", ""), "Basic " + Data("alice".utf8).base64EncodedString(),
                       "Basic " + String(repeating: "A", count: 2_000)] {
            #expect(await users.user(authorization: header) == nil, "\(header ?? "nil")")
        }
    }

    /// A reload forgets what was checked: the old password stops working at once.
    @Test func aReloadForgetsRememberedPasswords() async throws {
        let users = DashboardUsers(["alice": Bcrypt.hash("old", cost: 4)])
        #expect(await users.user(authorization: Self.basic("alice", "old")) == "alice")
        #expect(await users.user(authorization: Self.basic("alice", "old")) == "alice", "remembered")
        users.replace(["alice": Bcrypt.hash("new", cost: 4)])
        #expect(await users.user(authorization: Self.basic("alice", "old")) == nil)
        #expect(await users.user(authorization: Self.basic("alice", "new")) == "alice")
        users.replace(["bob": Bcrypt.hash("new", cost: 4)])
        #expect(await users.user(authorization: Self.basic("alice", "new")) == nil, "a user removed is refused")
    }

    /// A flood of passwords runs at most `maxChecking` bcrypts at once; one more is refused
    /// without hashing, even right, until a check ends.
    @Test func aFloodOfPasswordsIsBoundedInBcrypts() async throws {
        let users = DashboardUsers(["alice": Bcrypt.hash("pw", cost: 13)])
        let flood = (0..<DashboardUsers.maxChecking).map { i in Task { await users.user(authorization: Self.basic("alice", "wrong \(i)")) } }
        while users.checksInFlight < DashboardUsers.maxChecking { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await users.user(authorization: Self.basic("alice", "pw")) == nil, "refused while the flood is hashed")
        for t in flood { #expect(await t.value == nil) }
        #expect(users.checksInFlight == 0)
        #expect(await users.user(authorization: Self.basic("alice", "pw")) == "alice")
    }
}
