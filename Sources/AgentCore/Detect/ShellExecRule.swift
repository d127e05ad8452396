/// `SHELL_IN_CONTAINER`: decides whether a `docker exec` is a shell someone is using.
///
/// A shell is sh, bash, ash, dash, zsh, ksh, mksh, csh, tcsh or fish under any path, or busybox
/// running one of them. By default only interactive shells alert (a TTY or stdin attached, as with
/// `docker exec -it c sh`); `--shell-alert-all` alerts on every shell exec. A container's own
/// healthcheck command never alerts, whatever its form.
public struct ShellExecRule: Sendable {
    public static let shells: Set<String> = ["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"]

    public let alertAll: Bool

    public init(alertAll: Bool) {
        self.alertAll = alertAll
    }

    /// The exec as seen by the agent.
    public struct Exec: Sendable, Equatable {
        public var entrypoint: String
        public var arguments: [String]
        public var tty: Bool
        public var stdin: Bool
        public var user: String

        public init(entrypoint: String, arguments: [String], tty: Bool, stdin: Bool, user: String) {
            self.entrypoint = entrypoint
            self.arguments = arguments
            self.tty = tty
            self.stdin = stdin
            self.user = user
        }

        public init(_ inspect: DockerExecInspect) {
            let p = inspect.ProcessConfig
            self.init(entrypoint: p?.entrypoint ?? "", arguments: p?.arguments ?? [], tty: p?.tty ?? false,
                      stdin: inspect.OpenStdin ?? false, user: p?.user ?? "")
        }

        public var commandLine: String { ([entrypoint] + arguments).joined(separator: " ") }
    }

    public static func isShell(_ exec: Exec) -> Bool {
        let name = basename(exec.entrypoint)
        if shells.contains(name) { return true }
        if name == "busybox", let first = exec.arguments.first { return shells.contains(basename(first)) }
        return false
    }

    /// The healthcheck's command as Docker runs it: `CMD-SHELL x` → `/bin/sh -c x`, `CMD a b` → `a b`.
    public static func isHealthcheck(_ exec: Exec, test: [String]?) -> Bool {
        // Compared as command lines: a gone exec is only known by the text in its event.
        guard let test, let expected = healthcheckCommandLine(test) else { return false }
        return expected == exec.commandLine
    }

    /// The command line Docker runs (and names in exec events) for a healthcheck `Test`.
    public static func healthcheckCommandLine(_ test: [String]) -> String? {
        switch test.first {
        case "CMD-SHELL": return (["/bin/sh", "-c"] + test.dropFirst()).joined(separator: " ")
        case "CMD": return test.dropFirst().joined(separator: " ")
        default: return nil
        }
    }

    /// Whether this exec raises the alert.
    public func alerts(_ exec: Exec, healthcheck: [String]?) -> Bool {
        guard Self.isShell(exec), !Self.isHealthcheck(exec, test: healthcheck) else { return false }
        return alertAll || exec.tty || exec.stdin
    }

    private static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
