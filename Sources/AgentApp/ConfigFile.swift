import AgentCore
import AgentPlatform
import AgentLinux

/// `--config FILE`: a YAML mapping whose keys are the flags' names in snake_case (`server_url`,
/// `health_addr`, `queue_dir`, ...). Values are single scalars. An unknown key, a nested value or
/// a document that is not a mapping is an error naming the file, line and key. Precedence is
/// flag > environment > file > default (see `ConfigResolver.raw`).
public enum ConfigFile {
    /// Flags that can be set from the file: every agent option but `--config` itself.
    static var keys: [String: OptionSpec] {
        Dictionary(uniqueKeysWithValues: AgentOptions.all.filter { $0.flag != AgentOptions.config.flag }
            .map { ($0.yamlKey, $0) })
    }

    public static func load(path: String) throws(ConfigError) -> [String: ConfigFileValue] {
        let text: String
        do {
            text = try FileReading.readToEnd(path: path, limit: 1 << 20)
        } catch {
            throw ConfigError(flag: AgentOptions.config.flag, "cannot read \(AgentError.quote(path)): \(error)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(ConfigError) -> [String: ConfigFileValue] {
        let flag = AgentOptions.config.flag
        let entries: [FlatYAML.Entry]
        do {
            entries = try FlatYAML.parse(text)
        } catch {
            switch error {
            case .notMapping:
                throw ConfigError(flag: flag, "\(path): must be a mapping of settings (key: value)")
            case .notScalar(let key, let line):
                throw ConfigError(flag: flag, "\(path):\(line): \(key) must be a single value")
            case .invalid(let line, let reason):
                throw ConfigError(flag: flag, "\(path):\(line): not valid YAML: \(reason)")
            }
        }
        let known = keys
        var out: [String: ConfigFileValue] = [:]
        for entry in entries {
            let key = entry.key
            guard let spec = known[key] else {
                throw ConfigError(flag: flag, "\(path):\(entry.line): unknown key \(AgentError.quote(key))"
                    + (known[key.replacing("-", with: "_")] != nil ? " (use snake_case)" : ""))
            }
            out[spec.flag] = ConfigFileValue(text: entry.value, origin: "\(path):\(entry.line)")
        }
        return out
    }
}
