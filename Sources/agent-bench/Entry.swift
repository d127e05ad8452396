#if canImport(Glibc)
import Glibc
#endif

/// `agent-bench queue [dir] [backlog MiB] [durable count]`: prints figures, asserts nothing.
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
        default:
            print("usage: agent-bench queue [dir] [backlog MiB] [durable count]")
            exit(64)
        }
    }
}
