#if canImport(Glibc)
import Glibc
#endif

/// `agent-bench queue [dir] [backlog MiB] [durable count]`, `agent-bench auth [lines] [log file]` or
/// `agent-bench logs [MiB] [recorded stream]` or `agent-bench compress [recorded stream]`:
/// prints figures, asserts nothing.
@main
enum Entry {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "queue":
            let dir = args.count > 1 ? args[1] : "/tmp/agent-bench-queue-\(getpid())"
            let mib = args.count > 2 ? Int(args[2]) ?? 100 : 100
            let n = args.count > 3 ? Int(args[3]) ?? 2000 : 2000
            defer { _ = system("rm -rf '\(dir)'") }
            try QueueBench.run(directory: dir, backlogMiB: mib, durableCount: n)
        case "auth":
            let n = args.count > 1 ? Int(args[1]) ?? 1_000_000 : 1_000_000
            AuthBench.run(lines: n, writeTo: args.count > 2 ? args[2] : nil)
        case "compress":
            try CompressBench.run(fixture: args.count > 1 ? args[1] : "Tests/Fixtures/docker/logs-mixed.mux")
        case "logs":
            let mib = args.count > 1 ? Int(args[1]) ?? 256 : 256
            try LogBench.run(mib: mib, fixture: args.count > 2 ? args[2] : "Tests/Fixtures/docker/logs-mixed.mux")
        default:
            print("usage: agent-bench queue [dir] [backlog MiB] [durable count] | auth [lines] [write log to] | logs [MiB] [recorded stream] | compress [recorded stream]")
            exit(64)
        }
    }
}
