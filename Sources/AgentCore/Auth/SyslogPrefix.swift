/// The parts of one syslog line the auth grammar needs: who logged it and what.
public struct SyslogRecord {
    /// The program name as logged: `sshd`, `sshd-session`, `vsftpd`, `sshd(pam_unix)`, ...
    public var program: UnsafeBufferPointer<UInt8>
    /// The process id, which identifies one sshd connection; nil when the line has none.
    public var pid: Int32?
    /// The message, after the tag (and after a Solaris `[ID n facility.level] ` tag).
    public var message: UnsafeBufferPointer<UInt8>
}

/// Splits the syslog prefixes found in auth logs, on bytes:
///
/// | form | example |
/// |---|---|
/// | traditional (RFC 3164) | `Nov 28 05:54:23 host sshd[123]: msg`, `Feb 7 16:01:07 host ...` |
/// | traditional, no host | `Nov 23 21:50:19 sshd[8148]: msg`, `Mar  3 00:17:22 [sshd]: msg`, `Jun 25 23:53:34 [sshd] msg` |
/// | RFC 3339 (rsyslog) | `2026-11-28T05:54:23.274377+00:00 host sshd[123]: msg` |
/// | RFC 5424 | `<38>1 2019-07-08T17:40:16.95-04:00 host sshd 57915 - [sd "x"] msg` |
/// | a `<PRI>` before any of the above | `<38>Nov 28 05:54:23 host sshd[1]: msg` |
/// | Solaris/illumos message id | `... sshd[20878]: [ID 800047 auth.info] msg` |
///
/// The tag is `prog[pid]:`, `prog:`, `[prog]:` or `[prog]`; `prog` may carry a parenthesised
/// part (`sshd(pam_unix)[123]:`). Nothing here is trusted beyond its shape: the program name is
/// whatever the writer of the line claimed (any local user can write to syslog).
public enum SyslogPrefix {
    public static func split(_ l: UnsafeBufferPointer<UInt8>) -> SyslogRecord? {
        let n = l.count
        guard n > 8 else { return nil }
        var i = 0
        if l[0] == UInt8(ascii: "<") { // <PRI>
            i = 1
            while i < n, i < 5, isDigit(l[i]) { i += 1 }
            guard i > 1, i < n, l[i] == UInt8(ascii: ">") else { return nil }
            i += 1
            if i + 1 < n, l[i] == UInt8(ascii: "1"), l[i + 1] == 0x20 { return rfc5424(l, from: i + 2) }
        }
        guard let afterTime = timestampEnd(l, from: i) else { return nil }
        i = afterTime
        // Either "host tag msg" or "tag msg" (no host): a host name never ends in ':' nor is
        // bracketed, so a first word that parses as a tag is the tag.
        if let r = tag(l, from: i) { return r }
        while i < n, l[i] != 0x20 { i += 1 } // host
        i += 1
        return tag(l, from: i)
    }

    /// `Mmm dd hh:mm:ss ` (day space- or zero-padded, or a single digit) or an RFC 3339 time up
    /// to its space. Returns the index after the space(s).
    static func timestampEnd(_ l: UnsafeBufferPointer<UInt8>, from s: Int) -> Int? {
        let n = l.count
        var i = s
        if i < n, isDigit(l[i]) { // RFC 3339
            while i < n, l[i] != 0x20 { i += 1 }
            guard i - s >= 10, i < n else { return nil }
            return i + 1
        }
        guard i + 3 < n, isLetter(l[i]), isLetter(l[i + 1]), isLetter(l[i + 2]), l[i + 3] == 0x20 else { return nil }
        i += 4
        while i < n, l[i] == 0x20 { i += 1 }
        let day = i
        while i < n, isDigit(l[i]) { i += 1 }
        guard i - day >= 1, i - day <= 2, i < n, l[i] == 0x20 else { return nil }
        i += 1
        let time = i
        while i < n, isDigit(l[i]) || l[i] == UInt8(ascii: ":") || l[i] == UInt8(ascii: ".") { i += 1 }
        guard i - time >= 8, i < n, l[i] == 0x20 else { return nil }
        return i + 1
    }

    /// Parses a tag at `s` and the message after it.
    static func tag(_ l: UnsafeBufferPointer<UInt8>, from s: Int) -> SyslogRecord? {
        let n = l.count
        var i = s
        guard i < n else { return nil }
        if l[i] == UInt8(ascii: "[") { // [prog]: or [prog]
            i += 1
            let p = i
            while i < n, isProgramByte(l[i]) { i += 1 }
            guard i > p, i < n, l[i] == UInt8(ascii: "]") else { return nil }
            let program = UnsafeBufferPointer(rebasing: l[p..<i])
            i += 1
            if i < n, l[i] == UInt8(ascii: ":") { i += 1 }
            guard i < n, l[i] == 0x20 else { return nil }
            return SyslogRecord(program: program, pid: nil, message: message(l, from: i + 1))
        }
        let p = i
        while i < n, isProgramByte(l[i]) { i += 1 }
        if i < n, l[i] == UInt8(ascii: "(") { // sshd(pam_unix)
            while i < n, l[i] != UInt8(ascii: ")"), l[i] != 0x20 { i += 1 }
            guard i < n, l[i] == UInt8(ascii: ")") else { return nil }
            i += 1
        }
        guard i > p, i < n else { return nil }
        let program = UnsafeBufferPointer(rebasing: l[p..<i])
        var pid: Int32?
        if l[i] == UInt8(ascii: "[") {
            i += 1
            guard let (v, e) = digits(l, from: i), e < n, l[e] == UInt8(ascii: "]") else { return nil }
            pid = v
            i = e + 1
        }
        guard i + 1 < n, l[i] == UInt8(ascii: ":"), l[i + 1] == 0x20 else { return nil }
        return SyslogRecord(program: program, pid: pid, message: message(l, from: i + 2))
    }

    /// The message from `s`, past a Solaris `[ID 800047 auth.info] ` tag.
    static func message(_ l: UnsafeBufferPointer<UInt8>, from s: Int) -> UnsafeBufferPointer<UInt8> {
        let m = UnsafeBufferPointer(rebasing: l[s...])
        guard ByteSearch.hasPrefix(m, "[ID ") else { return m }
        var i = 4
        while i < m.count, isDigit(m[i]) { i += 1 }
        guard i > 4, i < m.count, m[i] == 0x20 else { return m }
        i += 1
        while i < m.count, m[i] != UInt8(ascii: "]"), m[i] != 0x20 { i += 1 }
        guard i + 1 < m.count, m[i] == UInt8(ascii: "]"), m[i + 1] == 0x20 else { return m }
        return UnsafeBufferPointer(rebasing: m[(i + 2)...])
    }

    /// `TIMESTAMP HOST APP PROCID MSGID SD MSG` after `<PRI>1 `. SD is `-` or bracketed
    /// elements whose quoted values may hold `]` (escaped or not).
    static func rfc5424(_ l: UnsafeBufferPointer<UInt8>, from s: Int) -> SyslogRecord? {
        let n = l.count
        var i = s
        func word() -> Range<Int>? {
            let w = i
            while i < n, l[i] != 0x20 { i += 1 }
            guard i > w, i < n else { return nil }
            defer { i += 1 }
            return w..<i
        }
        guard word() != nil, word() != nil, let app = word(), let procid = word(), word() != nil else { return nil }
        if l[i] == UInt8(ascii: "-") {
            i += 1
        } else {
            while i < n, l[i] == UInt8(ascii: "[") {
                var quoted = false
                i += 1
                while i < n {
                    let c = l[i]
                    if quoted, c == UInt8(ascii: "\\") { i += 2; continue }
                    if c == UInt8(ascii: "\"") { quoted.toggle() } else if !quoted, c == UInt8(ascii: "]") { break }
                    i += 1
                }
                guard i < n else { return nil }
                i += 1
            }
        }
        guard i < n, l[i] == 0x20 else { return nil }
        i += 1
        if i + 2 < n, l[i] == 0xEF, l[i + 1] == 0xBB, l[i + 2] == 0xBF { i += 3 } // BOM
        let pid = digits(l, from: procid.lowerBound).flatMap { $0.end == procid.upperBound ? $0.value : nil }
        return SyslogRecord(program: UnsafeBufferPointer(rebasing: l[app]), pid: pid, message: UnsafeBufferPointer(rebasing: l[i...]))
    }

    /// 1-9 decimal digits at `s`: the value and the index after them.
    static func digits(_ l: UnsafeBufferPointer<UInt8>, from s: Int) -> (value: Int32, end: Int)? {
        var i = s
        var v: Int32 = 0
        while i < l.count, isDigit(l[i]), i - s < 9 { v = v * 10 + Int32(l[i] - 0x30); i += 1 }
        return i > s ? (v, i) : nil
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { c | 0x20 >= 0x61 && c | 0x20 <= 0x7A }
    /// Program names: letters, digits, `-`, `_`, `.`, `/`.
    @inline(__always) static func isProgramByte(_ c: UInt8) -> Bool {
        isLetter(c) || isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "/")
    }
}
