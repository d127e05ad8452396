import AgentCore
import AgentPlatform
#if canImport(Glibc)
import Glibc
#endif

public enum DiskStats {
    /// statvfs(2) of `path`.
    public static func blocks(path: String) throws -> FilesystemBlocks {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else {
            throw AgentError(.statvfs, "statvfs failed", input: path, cause: Errno.current())
        }
        return FilesystemBlocks(total: UInt64(st.f_blocks), free: UInt64(st.f_bfree), available: UInt64(st.f_bavail))
    }
}
