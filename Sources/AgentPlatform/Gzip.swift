import AgentCore
import CompressNIO
import NIOCore

/// gzip (RFC 1952) for payloads on the wire, through the system's zlib.
public enum Gzip {
    public enum Failure: Error, Equatable, Sendable {
        /// The decoded bytes would pass the limit (a zip bomb, or simply too large).
        case tooLarge(limit: Int)
        /// Not a complete gzip stream.
        case corrupt
    }

    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        // Deflate into a buffer of zlib's own bound for this input cannot fail for lack of room;
        // a failure here is a broken zlib, and the caller then sends the bytes as they are.
        guard let out = try? input.compress(with: .gzip) else { return bytes }
        return Array(out.readableBytesView)
    }

    /// Decodes a gzip stream; never holds more than `limit` decoded bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        // Smallest stream: 10-byte header, an empty deflate block, 8-byte trailer.
        guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B else { throw .corrupt }
        var input = ByteBuffer(bytes: bytes)
        let out: ByteBuffer
        do {
            // One byte past the limit: room to tell "exactly the limit" from "more".
            out = try input.decompress(with: .gzip, maxSize: limit == .max ? limit : limit + 1)
        } catch let e as CompressNIOError where e == .bufferOverflow {
            throw .tooLarge(limit: limit)
        } catch {
            throw .corrupt
        }
        if out.readableBytes > limit { throw .tooLarge(limit: limit) }
        // zlib stops quietly at the end of a truncated stream: the trailer's size (mod 2^32) of
        // the decoded bytes tells a whole stream from a cut one.
        let n = bytes.count
        let isize = UInt32(bytes[n - 4]) | UInt32(bytes[n - 3]) << 8 | UInt32(bytes[n - 2]) << 16 | UInt32(bytes[n - 1]) << 24
        guard UInt32(truncatingIfNeeded: out.readableBytes) == isize else { throw .corrupt }
        return Array(out.readableBytesView)
    }
}
