#if canImport(Glibc)
import Glibc
#endif

/// `payload_id`: a random (version 4) UUID in lowercase text. One `getrandom(2)` call per id
/// (glibc's `arc4random_buf`); Foundation's `UUID()` opened, read and closed /dev/urandom each
/// time (three system calls on every cycle).
public enum PayloadID {
    /// Whether `text` is a UUID in the form agents make: 36 characters, lowercase hex in groups
    /// of 8-4-4-4-12. Receivers deduplicate on this text, so only one spelling of an id exists.
    public static func isValid(_ text: String) -> Bool {
        var n = 0
        for c in text.utf8 {
            if n == 8 || n == 13 || n == 18 || n == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (c >= 48 && c <= 57) || (c >= 97 && c <= 102) else { return false }
            }
            n += 1
            if n > 36 { return false }
        }
        return n == 36
    }

    public static func random() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, 16) } // glibc: getrandom(2), cannot fail
        return format(bytes)
    }

    /// The 8-4-4-4-12 text of 16 bytes with the version (4) and variant (RFC 9562) bits set.
    static func format(_ random: [UInt8]) -> String {
        var b = random
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, byte) in b.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
