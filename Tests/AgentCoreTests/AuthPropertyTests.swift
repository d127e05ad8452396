import AgentCore
import TestSupport
import Testing

/// For every form sshd and PAM print with attacker-chosen text in it (user names, `ruser`,
/// hostbased client user and host, certificate ids, protocol identification strings), random
/// text built from the pieces that mimic fields (` from `, ` port `, `ssh2`, addresses, `: `,
/// ` rhost=`, ` user=`) never makes the parser name another address: the line names the real
/// one, or is ambiguous with the real one among its candidates, or is no event.
@Suite struct AuthPropertyTests {
    static let pieces = ["x", " ", " from ", " port ", "22", " ssh2", " ssh1", ": ", ":", "10.6.6.6", "2001:db8::66", "evil.example",
                         " [preauth]", " user=", " rhost=", "rhost=10.6.6.6", "\"", ", client host \"", " via ", "(", ")", " on ",
                         "invalid user ", "illegal user ", "'", "RSA SHA256:abc", " Auth fail", ":3: ", "11:", " (serial 1) CA "]

    /// Templates: `{U}`, `{V}` and `{W}` are attacker text, `{A}` the real address.
    static let forms = [
        "Failed password for {U} from {A} port 22 ssh2",
        "Failed password for invalid user {U} from {A} port 22 ssh2",
        "Failed keyboard-interactive/pam for invalid user {U} from {A} port 22 ssh2",
        "Failed publickey for invalid user {U} from {A} port 22 ssh2: ED25519-CERT SHA256:abc ID {V} (serial 1) CA ED25519 SHA256:def",
        "Failed hostbased for {U} from {A} port 22 ssh2: RSA SHA256:abc, client user \"{V}\", client host \"{W}\"",
        "Failed password for {U} from {A} port 22 ssh1: ruser {V}",
        "Accepted publickey for {U} from {A} port 22 ssh2: ED25519-CERT SHA256:abc ID {V} (serial 1) CA ED25519 SHA256:def",
        "Invalid user {U} from {A} port 22",
        "User {U} from {A} not allowed because not listed in AllowUsers",
        "error: maximum authentication attempts exceeded for invalid user {U} from {A} port 22 ssh2 [preauth]",
        "Connection closed by invalid user {U} {A} port 22 [preauth]",
        "Connection closed by authenticating user {U} {A} port 22 [preauth]",
        "Connection reset by invalid user {U} {A} port 22 [preauth]",
        "Disconnected from invalid user {U} {A} port 22 [preauth]",
        "Disconnecting invalid user {U} {A} port 22: Too many authentication failures [preauth]",
        "error: PAM: Authentication failure for {U} from {A}",
        "error: PAM: User not known to the underlying authentication module for illegal user {U} from {A}",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser={U} rhost={A}  user={V}",
        "Bad protocol version identification '{U}' from {A} port 22",
        "Did not receive identification string from {A} port 22",
    ]

    static func text(_ rng: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    @Test(arguments: ["192.0.2.10", "2001:db8::10", "scanner.example.net"])
    func attackerTextNeverMovesTheAddress(_ real: String) {
        var rng = SplitMix64(seed: UInt64(real.utf8.count))
        var judged = 0, named = 0
        for form in Self.forms {
            for _ in 0..<500 {
                let message = form.replacingOccurrences(of: "{U}", with: Self.text(&rng))
                    .replacingOccurrences(of: "{V}", with: Self.text(&rng)).replacingOccurrences(of: "{W}", with: Self.text(&rng))
                    .replacingOccurrences(of: "{A}", with: real)
                let line = "Nov 30 09:10:27 host sshd[4242]: " + message
                judged += 1
                guard let e = AuthLogParser.parse(line: line) else { continue }
                if e.isAmbiguous {
                    #expect(e.candidates.contains { $0.text == real }, "\(line)")
                } else if e.source != nil {
                    named += 1
                    #expect(e.address == real, "\(line)")
                }
                var intake = AuthIntake()
                for t in intake.take(lines: [line]) { #expect(t.source.text == real, "\(line)") }
            }
        }
        // Most lines still name their address: the property is not met by refusing everything.
        #expect(named * 10 > judged * 6, "\(named) of \(judged)")
    }
}
