import AgentCore
import AgentLinux
import Yams

/// `--config FILE`: a YAML mapping whose keys are the flags' names in snake_case (`server_url`,
/// `health_addr`, `queue_dir`, ...). Values are single scalars. An unknown key, a nested value or
/// a document that is not a mapping is an error naming the file, line and key. Precedence is
/// flag > environment > file > default (see `ConfigResolver.raw`).
public enum ConfigFile {
    /// Flags that can be set from the file: every agent option but `--config` itself.
    static var keys: [String: OptionSpec] {
        Dictionary(uniqueKeysWithValues: AgentOptions.all.filter { $0.flag != AgentOptions.config.flag }
            .map { ($0.flag.replacingOccurrences(of: "-", with: "_"), $0) })
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
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(flag: flag, "\(path): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return [:] } // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw ConfigError(flag: flag, "\(path): must be a mapping of settings (key: value)")
        }
        let known = keys
        var out: [String: ConfigFileValue] = [:]
        for (k, v) in mapping {
            let line = (k.mark?.line).map { ":\($0)" } ?? ""
            guard let key = k.string else { throw ConfigError(flag: flag, "\(path)\(line): keys must be text") }
            guard let spec = known[key] else {
                throw ConfigError(flag: flag, "\(path)\(line): unknown key \(AgentError.quote(key))"
                    + (known[key.replacingOccurrences(of: "-", with: "_")] != nil ? " (use snake_case)" : ""))
            }
            guard case .scalar(let scalar) = v else {
                throw ConfigError(flag: flag, "\(path)\(line): \(key) must be a single value")
            }
            out[spec.flag] = ConfigFileValue(text: scalar.string, origin: "\(path)\(line)")
        }
        return out
    }
}
