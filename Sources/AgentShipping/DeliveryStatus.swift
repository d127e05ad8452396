import AgentCore

/// The shipper's status: what was sent, refused, retried and dropped, and the queue.
public struct DeliveryStatus: StatusReporting, Equatable {
    /// Wall time of the last 2xx, unix seconds.
    public var lastSendOKUnix: Int64?
    public var payloadsSent = 0
    /// Payloads the server refused for good (4xx).
    public var rejectedPayloads = 0
    /// Failed attempts by reason (`status_503`, `transport`).
    public var sendFailures: [String: Int] = [:]
    public var retries = 0
    /// Payloads waiting to be delivered (buffered, not yet acknowledged).
    public var queueLength = 0
    /// Bytes the queue holds (on disk, plus memory when the disk is unavailable).
    public var queueBytes = 0
    /// Payloads dropped to stay within the queue bounds.
    public var droppedPayloads = 0
    /// Queue records found corrupt and skipped (torn writes, garbage lines).
    public var queueCorruptRecords = 0
    /// The disk queue's last error while it is unavailable; nil when it works.
    public var queueError: String?
    /// Our clock minus the server's `Date`, seconds; nil until a response carried a Date.
    public var clockSkewSeconds: Int64?
    /// Request bodies as sent (gzip-compressed where they were), and as built, in bytes; every attempt.
    public var bytesSent = 0
    public var bytesUncompressed = 0
    /// Times the server asked to be left alone (429/503 with Retry-After), and until when (unix seconds).
    public var serverHolds = 0
    public var heldUntilUnix: Int64?

    public init() {}

    public func report(into r: inout StatusReport) {
        r.health["last_send_ok"] = .optional(lastSendOKUnix.map { RFC3339.format(unixSeconds: $0) })
        r.health["queue_length"] = .int(queueLength)
        r.health["queue_bytes"] = .int(queueBytes)
        r.health["queue_dropped_payloads"] = .int(droppedPayloads)
        r.health["queue_corrupt_records"] = .int(queueCorruptRecords)
        r.health["queue_error"] = .optional(queueError)
        r.health["clock_skew_seconds"] = .optional(clockSkewSeconds)
        r.health["server_hold_until"] = .optional(heldUntilUnix.map { RFC3339.format(unixSeconds: $0) })

        r.counter("monitoring_agent_payloads_sent_total", "Payloads the server acknowledged with 2xx", payloadsSent)
        r.counter("monitoring_agent_payloads_rejected_total", "Payloads the server refused for good (4xx)", rejectedPayloads)
        for (reason, n) in sendFailures.sorted(by: { $0.key < $1.key }) {
            r.counter("monitoring_agent_send_failures_total", "Failed send attempts, by reason", [("reason", reason)], n)
        }
        r.counter("monitoring_agent_send_retries_total", "Send attempts retried within a cycle", retries)
        r.counter("monitoring_agent_server_holds_total", "Times the server asked for a pause (429/503 with Retry-After); nothing is sent until it ends", serverHolds)
        r.counter("monitoring_agent_payload_bytes_sent_total", "Request body bytes sent, every attempt, as on the wire (gzip where compressed)", bytesSent)
        r.counter("monitoring_agent_payload_bytes_uncompressed_total", "Request body bytes of the same attempts before compression", bytesUncompressed)
        r.gauge("monitoring_agent_queue_length", "Payloads waiting for delivery", Double(queueLength))
        r.gauge("monitoring_agent_queue_bytes", "Bytes the queue holds", Double(queueBytes))
        r.counter("monitoring_agent_queue_dropped_payloads_total", "Payloads dropped to stay within the queue bounds", droppedPayloads)
        r.counter("monitoring_agent_queue_corrupt_records_total", "Queue records found corrupt and skipped", queueCorruptRecords)
        r.gauge("monitoring_agent_queue_disk_available", "1 when the disk queue accepts writes, 0 when it fell back to memory",
                queueError == nil ? 1 : 0)
        if let skew = clockSkewSeconds {
            r.gauge("monitoring_agent_clock_skew_seconds", "This host's clock minus the server's Date", Double(skew))
        }
    }
}
