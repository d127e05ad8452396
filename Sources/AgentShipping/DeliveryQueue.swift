import AgentCore
import Logging

/// The shipper's queue: the disk queue when it works, else memory. A filesystem error (disk
/// full, read-only, permission denied) is logged once, shown in /healthz, and payloads go to
/// memory; the disk is tried again on the next append, and what memory holds moves back to disk
/// first, so order is kept.
public final class DeliveryQueue {
    let diskConfiguration: DiskQueueConfiguration?
    private(set) var disk: DiskQueue?
    let memory: MemoryQueue
    let logger: Logger
    /// The last filesystem error, nil while the disk queue works.
    public private(set) var diskError: String?

    public init(disk: DiskQueueConfiguration?, memoryCapacity: Int, logger: Logger) {
        self.diskConfiguration = disk
        self.memory = MemoryQueue(capacity: memoryCapacity)
        self.logger = logger
        reopenDisk()
    }

    public var count: Int { (disk?.count ?? 0) + memory.count }
    public var byteCount: Int { (disk?.byteCount ?? 0) + memory.byteCount }
    public var droppedCount: Int { (disk?.droppedCount ?? 0) + memory.droppedCount }
    public var corruptCount: Int { disk?.corruptCount ?? 0 }

    /// Queues a payload. Returns true when it is durable on disk.
    @discardableResult
    public func append(_ payload: EncodedPayload) -> Bool {
        if disk == nil { reopenDisk() }
        if let disk {
            do {
                while let m = memory.first() { // older payloads held in memory go first
                    try disk.append(m)
                    memory.removeFirst(ifID: m.id)
                }
                try disk.append(payload)
                if diskError != nil {
                    logger.notice("disk queue writable again", metadata: ["queue_dir": "\(disk.configuration.directory)"])
                    diskError = nil
                }
                return true
            } catch {
                noteDiskError(error)
            }
        }
        memory.append(payload)
        return false
    }

    /// The oldest payload: what the disk holds comes before what memory holds.
    public func first() -> EncodedPayload? {
        if let disk, disk.count > 0 {
            do { if let p = try disk.first() { return p } } catch { noteDiskError(error) }
        }
        return memory.first()
    }

    /// Acknowledges the oldest payload. If the acknowledgement cannot be persisted the queue
    /// still moves on; after a restart that payload may be sent again, and the receiver
    /// deduplicates it by payload_id.
    public func removeFirst(ifID id: String) {
        if let disk, disk.count > 0 {
            do { try disk.removeFirst(ifID: id) } catch { noteDiskError(error) }
        }
        memory.removeFirst(ifID: id)
    }

    private func reopenDisk() {
        guard let configuration = diskConfiguration else { return }
        do {
            let q = try DiskQueue(configuration: configuration)
            q.onDrop = { [logger] path, records in
                logger.warning("queue over --queue-max-bytes, dropped oldest segment", metadata: [
                    "segment": "\(path)", "payloads": "\(records)", "max_bytes": "\(configuration.maxBytes)"])
            }
            disk = q
            if diskError != nil {
                logger.notice("disk queue available again", metadata: ["queue_dir": "\(configuration.directory)"])
            }
            diskError = nil
        } catch {
            noteDiskError(error)
        }
    }

    /// Logs the first of a run of filesystem errors; /healthz shows the latest.
    private func noteDiskError(_ error: any Error) {
        if diskError == nil {
            logger.error("disk queue failing, holding new payloads in memory", metadata: ["error": "\(error)"])
        }
        diskError = "\(error)"
    }
}
