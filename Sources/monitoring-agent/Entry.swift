import AgentApp

/// The executable only hands over to the command line in AgentApp.
@main
enum Entry {
    static func main() async {
        await AgentCommand.runFromCommandLine()
    }
}
