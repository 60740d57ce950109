import Foundation

/// Runs the built `quakewarn` executable as a user would, capturing stdout, stderr and the exit status.
struct CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    enum Failure: Error, CustomStringConvertible {
        case executableNotFound([String])
        var description: String {
            switch self {
            case .executableNotFound(let tried): "quakewarn executable not found; tried: \(tried.joined(separator: ", "))"
            }
        }
    }

    /// The `quakewarn` binary built next to the test bundle (`.build/<config>/quakewarn`).
    static func executable() throws -> URL {
        var candidates: [URL] = []
        // On Linux the test runner is .build/<triple>/<config>/QuakeWarnPackageTests.xctest.
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(runner.deletingLastPathComponent().appendingPathComponent("quakewarn"))
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("quakewarn"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("quakewarn"))
        for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) {
            return url
        }
        throw Failure.executableNotFound(candidates.map(\.path))
    }

    /// Runs `quakewarn` with `arguments` and waits for it to exit.
    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently with the process so a large output cannot block it.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
