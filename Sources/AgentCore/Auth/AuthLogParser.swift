/// Parses auth log lines (any prefix `SyslogPrefix` knows) or journald messages into auth events:
/// sshd's messages by `SSHDGrammar`, PAM failures of any service by `PAMGrammar`. Works on bytes;
/// most lines are rejected after the prefix or the first byte of the message.
public enum AuthLogParser {
    public typealias Bytes = UnsafeBufferPointer<UInt8>

    /// Parses a full syslog line. Returns nil for lines that are not auth events.
    public static func parse(line: some StringProtocol) -> AuthEvent? {
        var s = String(line)
        return s.withUTF8 { parse(line: $0) }
    }

    public static func parse(line: Bytes) -> AuthEvent? {
        guard let r = SyslogPrefix.split(line) else { return nil }
        return parse(program: r.program, message: r.message, pid: r.pid)
    }

    /// A journald entry: MESSAGE, SYSLOG_IDENTIFIER and the pid.
    public static func parse(message: some StringProtocol, identifier: String?, pid: Int32?) -> AuthEvent? {
        var s = String(message)
        var id = identifier ?? "sshd"
        return s.withUTF8 { m in id.withUTF8 { parse(program: $0, message: m, pid: pid) } }
    }

    /// The message of an sshd line (after `sshd[pid]: `).
    public static func parse(message: some StringProtocol, pid: Int32?) -> AuthEvent? {
        parse(message: message, identifier: "sshd", pid: pid)
    }

    static func parse(program: Bytes, message: Bytes, pid: Int32?) -> AuthEvent? {
        if isSSHD(program) {
            // Old PAM setups tag pam_unix's line `sshd(pam_unix)[123]: authentication failure; ...`.
            if ByteSearch.hasPrefix(program, "sshd("), ByteSearch.hasPrefix(message, "authentication failure;") {
                return PAMGrammar.unixFailure(message, pid: pid, service: nil)
            }
            return SSHDGrammar.parse(message, pid: pid)
        }
        return PAMGrammar.parse(message, pid: pid)
    }

    /// sshd's names: the daemon, OpenSSH 9.8's per-session and auth binaries, and the
    /// `sshd(pam_unix)` tag of older PAM setups.
    static func isSSHD(_ p: Bytes) -> Bool {
        ByteSearch.equals(p, "sshd") || ByteSearch.equals(p, "sshd-session") || ByteSearch.equals(p, "sshd-auth")
            || ByteSearch.hasPrefix(p, "sshd(") || ByteSearch.hasSuffix(p, "/sshd")
    }
}
