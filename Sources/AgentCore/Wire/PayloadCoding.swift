/// The one place payloads are turned into bytes and back, so the agent, the receiver and
/// the tests agree on the encoding (sorted keys, no escaped slashes, one line).
public enum PayloadCoding {
    /// The payload as sent: sorted keys, slashes unescaped (`PayloadJSON`, byte for byte what
    /// JSONEncoder with `[.sortedKeys, .withoutEscapingSlashes]` makes of the Codable form).
    public static func encode(_ payload: Payload) throws -> [UInt8] {
        try PayloadJSON.encode(payload)
    }

    /// One `alerts_detail` entry, as in the payload.
    public static func encodeDetail(_ d: AlertDetail) -> [UInt8] {
        PayloadJSON.encode(detail: d)
    }

    /// What JSONDecoder makes of the bytes as `Payload`'s Codable form (`PayloadReader`, without
    /// Foundation); the error says what is wrong and where, never the bytes.
    public static func decode(_ bytes: [UInt8]) throws -> Payload {
        try PayloadReader.decode(bytes)
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws -> Payload {
        try PayloadReader.decode(Array(bytes))
    }
}
