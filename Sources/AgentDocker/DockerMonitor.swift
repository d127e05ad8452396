import AgentCore
import AgentPlatform
import AsyncHTTPClient
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

public struct DockerMonitorConfiguration: Sendable {
    public var socketPath: String
    public var tailLines: Int
    public var maxLineBytes: Int
    /// Reconnection backoff: doubles from `minBackoff` up to `maxBackoff`.
    public var minBackoff: Duration
    public var maxBackoff: Duration
    /// After `die`, how long a log stream may still deliver the container's last lines.
    public var dieGrace: Duration
    /// Most containers whose logs are followed at once (one connection each); the rest are
    /// counted and logged, never followed silently or without bound.
    public var maxContainers: Int
    /// A session that lasted this long was healthy: the next reconnection starts from
    /// `minBackoff` again. A shorter one (a daemon that answers /_ping and then fails) keeps
    /// doubling the backoff, so a broken peer is never retried every second.
    public var healthySession: Duration

    public init(socketPath: String, tailLines: Int, maxLineBytes: Int,
                minBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30), dieGrace: Duration = .seconds(5),
                maxContainers: Int = 1000, healthySession: Duration = .seconds(60)) {
        self.maxContainers = maxContainers
        self.healthySession = healthySession
        self.socketPath = socketPath
        self.tailLines = tailLines
        self.maxLineBytes = maxLineBytes
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
        self.dieGrace = dieGrace
    }
}

/// Follows the Docker Engine: the container event stream, every running container's logs, and
/// exec inspection (for the shell-in-container detector). When Docker is missing, refused or goes away, it
/// reports `unavailable` (one warning), keeps retrying with capped backoff, and resumes events and
/// logs where they stopped when Docker returns: events from a few seconds before the newest one
/// handled, skipping those already handled (`EventReplayFilter`), logs from each container's last
/// timestamp, skipping the lines already delivered.
public final class DockerMonitor: Service, Sendable {
    let configuration: DockerMonitorConfiguration
    let client: DockerClient
    let activity: DockerActivity
    let onConnection: @Sendable (DockerActivity.Connection) -> Void
    let logger: Logger
    let wallClock: @Sendable () -> Int64
    let state = Mutex(MonitorState())

    struct ContainerInfo: Sendable {
        var name: String
        var image: String
        var tty: Bool
        var healthcheck: [String]?

        init(_ c: DockerContainerInspect) {
            name = c.displayName
            image = c.Config?.Image ?? ""
            tty = c.Config?.Tty ?? false
            healthcheck = c.Config?.Healthcheck?.Test
        }
    }

    struct MonitorState: Sendable {
        /// Events handled, so a reconnection's overlap is skipped (and `since` for it).
        var events = EventReplayFilter()
        var cursors: [String: LogCursor] = [:]
        var containers: [String: ContainerInfo] = [:]
        /// The running followers by container id, each with the signal that stops it.
        var followers: [String: FollowerStop] = [:]
        var seenExecs: Set<String> = []
        /// Containers not followed because `maxContainers` were (warned once per session).
        var unfollowedWarned = false
        /// Exec ids of healthcheck runs, whose events are left out of the payload.
        var healthExecs: Set<String> = []
    }

    public init(configuration: DockerMonitorConfiguration, activity: DockerActivity, logger: Logger,
                wallClock: @escaping @Sendable () -> Int64,
                onConnection: @escaping @Sendable (DockerActivity.Connection) -> Void = { _ in }) {
        self.configuration = configuration
        self.client = DockerClient(socketPath: configuration.socketPath) { [activity] in activity.countAPIRequest() }
        self.activity = activity
        self.logger = logger
        self.wallClock = wallClock
        self.onConnection = onConnection
    }

    public func run() async throws {
        // On the Docker connections' event loop, with every follower (child tasks inherit it).
        await withTaskExecutorPreference(client.executor) {
            await cancelWhenGracefulShutdown {
                await self.loop()
            }
        }
        await client.shutdown()
        logger.debug("docker monitor stopped")
    }

    private func set(_ c: DockerActivity.Connection, version: String? = nil) {
        activity.setConnection(c, apiVersion: version)
        onConnection(c)
    }

    private func loop() async {
        var backoff = configuration.minBackoff
        var warned = false
        set(.connecting)
        while !Task.isCancelled {
            var reason = ""
            do {
                if let why = DockerClient.probe(socketPath: configuration.socketPath) { throw DockerError.unavailable(why) }
                let version = try await client.negotiateVersion()
                let began = ContinuousClock.now
                defer { if ContinuousClock.now - began >= configuration.healthySession { backoff = configuration.minBackoff } }
                try await session(version: version) { warned = false }
                reason = "event stream ended"
            } catch {
                reason = (error as? DockerError)?.description ?? DockerClient.describe(error)
            }
            if Task.isCancelled { return }
            set(.unavailable)
            if !warned {
                logger.warning("docker unavailable; metrics and auth signals continue, retrying",
                               metadata: ["reason": "\(reason)", "socket": "\(configuration.socketPath)"])
                warned = true
            } else {
                logger.debug("docker still unavailable", metadata: ["reason": "\(reason)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.maxBackoff)
        }
    }

    /// One connection: subscribe to events first (so no start is missed), then attach to every
    /// running container, then handle events until the stream ends. The log followers are child
    /// tasks of the session: when it ends (stream over, error, shutdown) every one of them is
    /// cancelled and awaited before the next connection starts.
    private func session(version: String, onConnected: () -> Void) async throws {
        defer { state.withLock { $0.followers.removeAll() } }
        try await withThrowingDiscardingTaskGroup { group in
            try await session(version: version, followers: &group, onConnected: onConnected)
            group.cancelAll()
        }
    }

    private func session(version: String, followers group: inout ThrowingDiscardingTaskGroup<any Error>,
                         onConnected: () -> Void) async throws {
        let since = state.withLock { $0.events.since }
        let events = try await client.events(version: version, since: since)
        state.withLock { $0.unfollowedWarned = false }
        let (running, total) = try await client.runningContainers(version: version, limit: configuration.maxContainers)
        if total > running.count { notFollowed(total - running.count) }
        // Connected once the daemon has answered in full (a /_ping alone is not enough: a peer
        // that answers it and then stalls is not a working Docker).
        set(.connected, version: version)
        onConnected()
        logger.info("docker connected", metadata: ["api_version": "\(version)", "socket": "\(configuration.socketPath)",
                                                   "containers": "\(total)"])
        for c in running {
            await attach(c.Id, version: version, fromStart: false, in: &group)
        }
        var splitter = LineSplitter(maxLineBytes: 1 << 20) // a runaway line is cut, then counted as malformed
        var lines: [String] = []
        for try await buffer in events {
            splitter.feed(Array(buffer.readableBytesView)[...], into: &lines)
            defer { lines.removeAll(keepingCapacity: true) }
            for line in lines where !line.isEmpty {
                guard let event = try? JSONDecoder().decode(DockerEventMessage.self, from: Data(line.utf8)) else {
                    activity.countMalformedEvent()
                    logger.debug("malformed docker event skipped", metadata: ["bytes": "\(line.utf8.count)"])
                    continue
                }
                await handle(event, version: version, followers: &group)
            }
        }
    }

    private func handle(_ event: DockerEventMessage, version: String, followers group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        guard event.Type == nil || event.Type == "container", let id = event.containerID else { return }
        if let ts = event.timestamp {
            // Replayed by `since` after a reconnect: skipped. Late live events are kept.
            guard state.withLock({ $0.events.admit(time: ts, id: id, action: event.Action ?? "") }) else { return }
        }
        let attrs = event.attributes
        let name = attrs["name"] ?? String(id.prefix(12))
        if event.baseAction.hasPrefix("exec_"), await isHealthcheck(event, containerID: id, version: version) {
            return // Docker runs healthchecks as execs: every few seconds, three events each, no signal.
        }
        activity.add(event: DockerEvent(
            type: "container", action: event.baseAction, container: name, image: attrs["image"] ?? "",
            timestamp: (event.timestamp ?? DockerTimestamp(seconds: wallClock(), nanos: 0)).description))
        switch event.baseAction {
        case "start", "restart", "unpause":
            await attach(id, version: version, fromStart: true, in: &group)
        case "die", "kill", "stop":
            // The log stream of a stopped container ends by itself once its last lines are out;
            // this is the safety net, for the follower of the run that died only (a restart's
            // follower has a stop of its own), as a child task of the session. It stops a stream
            // that has been quiet for the grace (a busy agent may still be reading the last
            // lines of many containers that died at once), and after twelve graces in any case.
            if event.baseAction == "die", let stop = state.withLock({ $0.followers[id] }) {
                let grace = configuration.dieGrace
                group.addTask {
                    var waited = Duration.zero
                    repeat {
                        try? await Task.sleep(for: grace)
                        waited += grace
                    } while !Task.isCancelled && !stop.quiet(for: grace) && waited < grace * 12
                    stop.stop()
                }
            }
        case "destroy", "remove":
            activity.forget(container: name)
            state.withLock { s -> FollowerStop? in
                s.cursors[id] = nil
                s.containers[id] = nil
                return s.followers.removeValue(forKey: id)
            }?.stop()
        case "exec_create", "exec_start", "exec":
            await inspectExecs(of: id, execID: attrs["execID"], command: event.execCommand, version: version)
        default:
            break
        }
    }

    // MARK: - shells

    /// An exec event of the container's own healthcheck: by exec id once seen, else by the command
    /// line the event names. `exec_die` and `exec_detach` name no command; one whose exec started
    /// before the event stream opened (so neither table knows it) is looked up, and an exec Docker
    /// no longer knows, in a container that has a healthcheck, is taken for it: Docker drops a
    /// probe's exec when it ends, and probes run every few seconds, so any connection lands
    /// between the start and the end of one sooner or later.
    private func isHealthcheck(_ event: DockerEventMessage, containerID: String, version: String) async -> Bool {
        let execID = event.attributes["execID"]
        let (isProbe, seen) = execID.map { id in state.withLock { ($0.healthExecs.contains(id), $0.seenExecs.contains(id)) } }
            ?? (false, false)
        if isProbe { return true }
        guard let test = await containerInfo(containerID, version: version)?.healthcheck,
              let expected = ExecProcess.healthcheckCommandLine(test) else { return false }
        if let command = event.execCommand {
            guard command == expected else { return false }
        } else {
            guard let execID, !seen else { return false }
            if let inspected = try? await client.inspectExec(execID, version: version),
               !ExecProcess(inspected).isHealthcheck(test) { return false }
        }
        if let execID {
            state.withLock { s in
                if s.healthExecs.count > 50_000 { s.healthExecs.removeAll() }
                s.healthExecs.insert(execID)
            }
        }
        return true
    }

    private func inspectExecs(of containerID: String, execID: String?, command: String?, version: String) async {
        var ids: [String]
        if let execID {
            ids = [execID]
        } else {
            // podman names no exec in its events: look at the container's exec list.
            ids = (try? await client.inspectContainer(containerID, version: version).ExecIDs) ?? []
        }
        ids = state.withLock { s in
            if s.seenExecs.count > 50_000 { s.seenExecs.removeAll() }
            return ids.filter { s.seenExecs.insert($0).inserted }
        }
        guard !ids.isEmpty else { return }
        let info = await containerInfo(containerID, version: version)
        for execID in ids {
            let exec: ExecProcess
            if let inspected = try? await client.inspectExec(execID, version: version) {
                exec = ExecProcess(inspected)
            } else if let command {
                // Gone already (short-lived): judge by the command line in the event; no TTY known.
                let argv = command.split(separator: " ").map(String.init)
                exec = ExecProcess(entrypoint: argv.first ?? "", arguments: Array(argv.dropFirst()),
                                   tty: false, stdin: false, user: "")
            } else {
                continue
            }
            activity.add(exec: ContainerExec(container: info?.name ?? String(containerID.prefix(12)), image: info?.image,
                                             process: exec, healthcheck: info?.healthcheck))
        }
    }

    private func containerInfo(_ id: String, version: String) async -> ContainerInfo? {
        if let known = state.withLock({ $0.containers[id] }) { return known }
        guard let c = try? await client.inspectContainer(id, version: version) else { return nil }
        let info = ContainerInfo(c)
        state.withLock { $0.containers[id] = info }
        return info
    }

    // MARK: - log followers

    /// Starts following a container's logs, as a child task of the session, unless a follower is
    /// already running. A container seen starting (`fromStart`) is read from the start of its run;
    /// one running before gets `--tail-lines`.
    private func attach(_ id: String, version: String, fromStart: Bool, in group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        let (known, full) = state.withLock { ($0.followers[id] != nil, $0.followers.count >= configuration.maxContainers) }
        guard !known else { return }
        guard !full else { notFollowed(1); return }
        guard let c = try? await client.inspectContainer(id, version: version) else { return }
        if fromStart, let started = c.startedAt {
            // The first lines of a run can carry times before its StartedAt (the process writes
            // before the daemon records the start), so read from a little earlier. A container we
            // followed before keeps its cursor: nothing it already delivered comes twice.
            state.withLock { s in
                if s.cursors[id] == nil {
                    s.cursors[id] = LogCursor(last: DockerTimestamp(seconds: started.seconds - 2, nanos: started.nanos), linesAtLast: 0)
                }
            }
        }
        let info = ContainerInfo(c)
        let stop = FollowerStop()
        let started = state.withLock { s -> Bool in
            s.containers[id] = info
            guard s.followers[id] == nil else { return false }
            s.followers[id] = stop
            return true
        }
        guard started else { return }
        group.addTask { [self] in
            // Until the stream ends (container stopped, daemon gone), a stop closes it, or the
            // session ends (cancellation closes it).
            await follow(id, info: info, version: version, stop: stop)
            state.withLock { s in
                if s.followers[id] === stop { s.followers[id] = nil }
            }
        }
    }

    /// Counts containers left unfollowed at the `maxContainers` cap; warns once per session.
    private func notFollowed(_ n: Int) {
        activity.countUnfollowedContainers(n)
        let warn = state.withLock { s -> Bool in
            defer { s.unfollowedWarned = true }
            return !s.unfollowedWarned
        }
        if warn {
            logger.warning("more running containers than --max-containers; the rest are not followed (counted in /metrics)",
                           metadata: ["max_containers": "\(configuration.maxContainers)"])
        }
    }

    /// Streams one container's logs until the container stops, the daemon goes away, or cancellation.
    private func follow(_ id: String, info: ContainerInfo, version: String, stop: FollowerStop) async {
        let resume = state.withLock { $0.cursors[id] }
        let reader = ContainerLogReader(container: info.name, tty: info.tty,
                                        holdBytes: configuration.maxLineBytes + 1024, resume: resume)
        let wallClock = wallClock
        let now: @Sendable () -> String = { RFC3339.format(unixSeconds: wallClock()) }
        func read(_ what: String, touching: Bool, with reader: ContainerLogReader, path: String) async -> LogStreamOutcome {
            let outcome = await client.readLogs(path: path, reader: reader, stop: stop, now: now) { [self] batch in
                if touching { stop.touch() }
                activity.add(pending: batch.pending, statuses: batch.statuses, container: info.name,
                             malformedFrames: batch.malformedFrames)
                if let cursor = batch.cursor { state.withLock { $0.cursors[id] = cursor } }
            }
            if let failure = outcome.failure {
                logger.debug("\(what)", metadata: ["container": "\(info.name)", "reason": "\(failure)"])
            }
            return outcome
        }
        let followed = await read("log stream ended", touching: true, with: reader, path:
            DockerClient.logsPath(id, version: version, tail: configuration.tailLines, since: resume?.last))
        // The stream ended by itself: the container stopped. dockerd can end a follow stream
        // before the container's last lines reach it, so one read without follow, from what was
        // delivered, takes them (the lines at the cursor's timestamp already delivered are skipped).
        guard followed.endedByItself, !Task.isCancelled, !stop.isStopped, let from = followed.reader.cursor else { return }
        _ = await read("last lines not read", touching: false, with: followed.reader.resuming(from: from), path:
            DockerClient.logsPath(id, version: version, tail: 0, since: from.last, follow: false))
    }
}

/// Stops one log follower: closes the connection it is reading (registered by the reader with
/// `whenStopped`) and keeps it from opening another. Stopping twice is stopping once. It also
/// records when the follower last read data, for the safety net after a container dies.
final class FollowerStop: Sendable {
    private struct State {
        var stopped = false
        var action: (@Sendable () -> Void)?
        var lastData = ContinuousClock.now
    }
    private let state = Mutex(State())

    /// The follower read data now.
    func touch() {
        let now = ContinuousClock.now
        state.withLock { $0.lastData = now }
    }

    /// Whether the follower has read nothing for `d`.
    func quiet(for d: Duration) -> Bool {
        let last = state.withLock { $0.lastData }
        return ContinuousClock.now - last >= d
    }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// What ends the current read (closing its connection), in place of the previous read's;
    /// run at once when the stop came first.
    func whenStopped(_ action: @escaping @Sendable () -> Void) {
        let stopped = state.withLock { s -> Bool in
            if !s.stopped { s.action = action }
            return s.stopped
        }
        if stopped { action() }
    }

    func stop() {
        state.withLock { s -> (@Sendable () -> Void)? in
            s.stopped = true
            defer { s.action = nil }
            return s.action
        }?()
    }
}
