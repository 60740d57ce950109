import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `quakewarn` executable (design.md, "Interface contract").
///
/// Exit status: 0 on success, 2 on bad input (unknown option, invalid value, unreadable or
/// corrupt file) with a one-line reason on stderr naming the file or field.
@main
struct QuakeWarn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quakewarn",
        abstract: "Earthquake early-warning signal processor.",
        subcommands: [
            InfoCommand.self, PickCommand.self, MagnitudeCommand.self, IntensityCommand.self, SimulateCommand.self,
            FeedCommand.self, KeysCommand.self, VerifyCommand.self, BenchCommand.self, ReplayCommand.self,
            IngestCommand.self, RelayCommand.self, SubscribeCommand.self,
        ]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help / --version: print as ArgumentParser would.
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { Console.error(message) }
            // ArgumentParser reports usage errors as EX_USAGE (64); the contract says 2.
            let status: Int32 = code == .validationFailure ? 2 : code.rawValue
            Glibc.exit(status)
        }
    }
}
