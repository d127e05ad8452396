/// The one place payloads are turned into bytes and back, so the agent, the receiver and
/// the tests agree on the encoding (sorted keys, no escaped slashes, one line).
public enum PayloadCoding {
    public static func encode(_ payload: Payload) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(payload))
        } catch {
            throw AgentError(.encode, "cannot encode payload", cause: error)
        }
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws -> Payload {
        try JSONDecoder().decode(Payload.self, from: Data(bytes))
    }
}
