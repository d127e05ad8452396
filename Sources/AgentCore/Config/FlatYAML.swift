/// The part of YAML a settings file needs: one mapping of keys to single scalars.
///
/// Accepted: `key: value` at column 0, plain / 'single' / "double" quoted values, `# comments`
/// (a plain value ends at " #"), blank lines, a leading `---` and a trailing `...`, CRLF and a BOM.
/// Anything else YAML allows (nested values, sequences, flow `[...]` / `{...}`, block scalars,
/// anchors, aliases, tags, several documents) is reported with its line rather than guessed at:
/// a value that is not one scalar is `.notScalar`, so the caller can say which key is wrong.
/// Not Yams: its full-Foundation dependency would bring ICU data into the binary.
public enum FlatYAML {
    public struct Entry: Sendable, Equatable {
        public let key: String
        public let value: String
        public let line: Int
    }

    public enum Failure: Error, Sendable, Equatable {
        /// The document is not a mapping (a sequence or a bare scalar at the top).
        case notMapping
        /// `key` (at `line`) holds a sequence, mapping, flow collection or block scalar.
        case notScalar(key: String, line: Int)
        /// Syntax this reader does not accept, with a reason.
        case invalid(line: Int, reason: String)
    }

    public static func parse(_ text: String) throws(Failure) -> [Entry] {
        // "\r\n" is one Character in Swift, so CRLF files split on it as well as on "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        var entries: [Entry] = []
        var seen: Set<String> = []
        var open: (key: String, line: Int)? // a `key:` with nothing after it, waiting to see what follows
        var ended = false
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let content = stripComment(raw)
            if content.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if ended { throw .invalid(line: number, reason: "text after the end of the document") }
            if raw.first == " " || raw.first == "\t" {
                if let open { throw .notScalar(key: open.key, line: open.line) }
                throw .invalid(line: number, reason: "unexpected indentation")
            }
            if let pending = open {
                entries.append(Entry(key: pending.key, value: "", line: pending.line))
                open = nil
            }
            if content.hasPrefix("---") && content.dropFirst(3).allSatisfy({ $0 == " " }) {
                if number == 1 || entries.isEmpty { continue }
                throw .invalid(line: number, reason: "only one document is allowed")
            }
            if content.hasPrefix("...") && content.dropFirst(3).allSatisfy({ $0 == " " }) { ended = true; continue }
            if content.hasPrefix("- ") || content == "-" { throw .notMapping }
            guard let colon = keySeparator(content) else {
                if entries.isEmpty && content.first != "\"" && content.first != "'" { throw .notMapping }
                throw .invalid(line: number, reason: "expected \"key: value\"")
            }
            let key = String(content[..<colon])
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw .invalid(line: number, reason: "keys must be plain words")
            }
            guard seen.insert(key).inserted else { throw .invalid(line: number, reason: "\"\(key)\" appears twice") }
            let rest = content[content.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty {
                open = (key, number)
                continue
            }
            entries.append(Entry(key: key, value: try scalar(rest, key: key, line: number), line: number))
        }
        if let open { entries.append(Entry(key: open.key, value: "", line: open.line)) }
        return entries
    }

    /// The line without a trailing `# comment`. A `#` starts a comment at the start of the line or
    /// after a space, and not inside quotes.
    static func stripComment(_ line: Substring) -> Substring {
        var quote: Character?
        var escaped = false
        var previous: Character = " "
        for i in line.indices {
            let c = line[i]
            if let q = quote {
                if escaped {
                    escaped = false
                } else if q == "\"" && c == "\\" {
                    escaped = true
                } else if c == q {
                    quote = nil
                }
            } else if c == "\"" || c == "'" {
                if previous == " " || previous == "\t" || previous == ":" { quote = c }
            } else if c == "#" && (previous == " " || previous == "\t") {
                return line[..<i]
            }
            previous = c
        }
        return line
    }

    /// The `:` that ends a key: the first one followed by a space or the end of the line.
    static func keySeparator(_ s: Substring) -> Substring.Index? {
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == ":" {
                let next = s.index(after: i)
                if next == s.endIndex || s[next] == " " || s[next] == "\t" { return i }
            }
            i = s.index(after: i)
        }
        return nil
    }

    static func scalar(_ raw: Substring, key: String, line: Int) throws(Failure) -> String {
        let value = raw.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        let text = String(value)
        switch text.first {
        case "[", "{":
            let closing: Character = text.first == "[" ? "]" : "}"
            if text.last == closing { throw .notScalar(key: key, line: line) }
            throw .invalid(line: line, reason: "unclosed \(text.first!)")
        case "|", ">":
            throw .notScalar(key: key, line: line)
        case "&", "*", "!":
            throw .invalid(line: line, reason: "anchors, aliases and tags are not supported")
        case "'":
            return try singleQuoted(text, line: line)
        case "\"":
            return try doubleQuoted(text, line: line)
        default:
            return text
        }
    }

    static func singleQuoted(_ text: String, line: Int) throws(Failure) -> String {
        var out = ""
        var chars = text.dropFirst()[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "'" {
                if chars.first == "'" { out.append("'"); chars = chars.dropFirst(); continue }
                guard chars.isEmpty else { throw .invalid(line: line, reason: "text after a quoted value") }
                return out
            }
            out.append(c)
        }
        throw .invalid(line: line, reason: "unclosed '")
    }

    static func doubleQuoted(_ text: String, line: Int) throws(Failure) -> String {
        var out = ""
        var chars = text.unicodeScalars.dropFirst()[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            switch c {
            case "\"":
                guard chars.isEmpty else { throw .invalid(line: line, reason: "text after a quoted value") }
                return out
            case "\\":
                guard let e = chars.first else { throw .invalid(line: line, reason: "unclosed \"") }
                chars = chars.dropFirst()
                switch e {
                case "\\", "\"", "/": out.unicodeScalars.append(e)
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case " ": out.append(" ")
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    let hex = String(String.UnicodeScalarView(chars.prefix(width)))
                    guard hex.count == width, let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                        throw .invalid(line: line, reason: "bad \\\(e) escape")
                    }
                    out.unicodeScalars.append(scalar)
                    chars = chars.dropFirst(width)
                default:
                    throw .invalid(line: line, reason: "unknown escape \\\(e)")
                }
            default:
                out.unicodeScalars.append(c)
            }
        }
        throw .invalid(line: line, reason: "unclosed \"")
    }
}
