/// The agent's version, sent as `agent_version` and printed by `--version`.
public enum AgentVersion {
    public static let current = "0.1.0"
}
