/// Filesystem block counts as statvfs reports them.
public struct FilesystemBlocks: Sendable, Equatable {
    public var total: UInt64      // f_blocks
    public var free: UInt64       // f_bfree (includes blocks reserved for root)
    public var available: UInt64  // f_bavail (what unprivileged users can use)
    public init(total: UInt64, free: UInt64, available: UInt64) {
        self.total = total; self.free = free; self.available = available
    }

    /// Used percent as `df` shows it: used / (used + available), so root's reserve counts
    /// as unavailable rather than free.
    public var usedPercent: Double {
        let used = total >= free ? total - free : 0
        let denominator = used + available
        guard denominator > 0 else { return 0 }
        return Double(used) / Double(denominator) * 100
    }
}
