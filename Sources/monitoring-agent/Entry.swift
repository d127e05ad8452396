import AgentApp

/// The executable only hands over to the command line in AgentApp (synchronously: see
/// `SynchronousMain`).
@main
enum Entry {
    static func main() {
        SynchronousMain.run { await AgentCommand.runFromCommandLine() }
    }
}
