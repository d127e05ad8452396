import AgentCore

/// `SHELL_IN_CONTAINER`: a `docker exec` that is a shell someone is using.
///
/// A shell is sh, bash, ash, dash, zsh, ksh, mksh, csh, tcsh or fish under any path, or busybox
/// running one of them. By default only interactive shells alert (a TTY or stdin attached, as with
/// `docker exec -it c sh`); `alertAll` (`--shell-alert-all`) alerts on every shell exec. A
/// container's own healthcheck command never alerts, whatever its form. Each exec alerting in a
/// cycle gets its detail (container, image, command with secrets masked, user).
public struct ShellInContainerDetector: Detector {
    public static let shells: Set<String> = ["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"]
    /// Details kept per cycle at most; past it the alert still stands and the rest are counted.
    public static let maxDetails = 1_000

    public let alertAll: Bool
    private var details: [AlertDetail] = []
    public private(set) var detailsDropped = 0

    public init(alertAll: Bool) {
        self.alertAll = alertAll
    }

    public static func isShell(_ exec: ExecProcess) -> Bool {
        let name = basename(exec.entrypoint)
        if shells.contains(name) { return true }
        if name == "busybox", let first = exec.arguments.first { return shells.contains(basename(first)) }
        return false
    }

    /// Whether this exec raises the alert.
    public func alerts(_ exec: ExecProcess, healthcheck: [String]?) -> Bool {
        guard Self.isShell(exec), !exec.isHealthcheck(healthcheck) else { return false }
        return alertAll || exec.tty || exec.stdin
    }

    public mutating func observe(_ batch: Observations, at now: Int64) {
        for e in batch.execs where alerts(e.process, healthcheck: e.healthcheck) {
            guard details.count < Self.maxDetails else { detailsDropped += 1; continue }
            var masker = SecretMasker()
            let command = String(decoding: masker.mask(Array(e.process.commandLine.utf8)).bytes, as: UTF8.self)
            details.append(AlertDetail(rule: .shellInContainer, container: e.container, image: e.image, command: command,
                                       user: e.process.user.isEmpty ? "root" : e.process.user))
        }
    }

    public func findings(at now: Int64) -> Findings {
        details.isEmpty ? Findings() : Findings(alerts: [Alert(.shellInContainer)], details: details)
    }

    public mutating func endCycle(at now: Int64) {
        details.removeAll()
    }

    private static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
