import ArgumentParser

@main
struct QuakeWarn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quakewarn",
        abstract: "Earthquake early-warning signal processor.",
        subcommands: [PickCommand.self]
    )
}
