import AgentCore

/// Docker as a signal source: each cycle takes the events, log lines, execs and access-log
/// statuses the monitor gathered since the last one (`DockerActivity.drain`), and the
/// monitor's counters.
public struct DockerSource: SignalSource {
    public let name = "docker"
    let activity: DockerActivity

    public init(activity: DockerActivity) {
        self.activity = activity
    }

    public func collect(at time: CycleTime) async -> SourceBatch {
        let drained = activity.drain()
        var batch = SourceBatch(observations: drained.observations)
        batch.events = drained.events
        batch.logs = drained.logs
        batch.counters = Self.counters(activity.counters) + Self.containerCounters(activity.containerLogCounts)
        return batch
    }

    /// Per container, for the containers Docker still has (a removed one's series leave /metrics).
    static func containerCounters(_ counts: [String: FairLogBuffer.Counts]) -> [SourceCounter] {
        var out: [SourceCounter] = []
        out.reserveCapacity(counts.count * 2)
        for (name, c) in counts.sorted(by: { $0.key < $1.key }) {
            out.append(SourceCounter("monitoring_agent_docker_container_log_lines_total", "Container log lines streamed, by container",
                                     c.streamed, labels: [("container", name)]))
            out.append(SourceCounter("monitoring_agent_docker_container_log_lines_dropped_total",
                                     "Container log lines dropped past --max-log-entries, by container (the busiest lose lines first)",
                                     c.dropped, labels: [("container", name)]))
        }
        return out
    }

    static func counters(_ d: DockerActivity.Counters) -> [SourceCounter] {
        [SourceCounter("monitoring_agent_docker_events_total", "Container events received", d.eventsSeen),
         SourceCounter("monitoring_agent_docker_events_dropped_total", "Container events dropped past the backlog", d.eventsDropped),
         SourceCounter("monitoring_agent_docker_events_malformed_total", "Event stream lines that were not events", d.eventsMalformed),
         SourceCounter("monitoring_agent_docker_log_lines_total", "Container log lines streamed", d.logLinesStreamed),
         SourceCounter("monitoring_agent_docker_log_lines_dropped_total", "Container log lines dropped past --max-log-entries", d.logLinesDropped),
         SourceCounter("monitoring_agent_docker_log_lines_truncated_total", "Container log lines cut at --max-log-line-bytes", d.logLinesTruncated),
         SourceCounter("monitoring_agent_docker_values_masked_total", "Secret values masked in container log lines", d.valuesMasked),
         SourceCounter("monitoring_agent_docker_malformed_frames_total", "Log stream frames with a bad header", d.malformedFrames),
         SourceCounter("monitoring_agent_docker_reconnects_total", "Reconnections to the Docker Engine API", d.reconnects),
         SourceCounter("monitoring_agent_docker_api_requests_total", "Requests sent to the Docker Engine API (a stream counts once)", d.apiRequests),
         SourceCounter("monitoring_agent_docker_containers_unfollowed_total", "Running containers not followed because --max-containers were", d.containersUnfollowed),
         SourceCounter("monitoring_agent_docker_execs_total", "Execs seen in containers", d.execsSeen),
         SourceCounter("monitoring_agent_docker_execs_dropped_total", "Execs past the per-interval bound, not judged", d.execsDropped)]
    }
}
