import ArgumentParser
import SeismicCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output helpers shared by the subcommands (design.md interface contract): JSON goes to stdout,
/// one object per line; human messages go to stderr; exit 2 on bad input.
enum Console {
    /// Writes a line to standard error (human messages, progress, per-file errors).
    static func error(_ message: String) {
        var line = message
        line += "\n"
        var utf8 = Array(line.utf8)
        utf8.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n <= 0 { break }  // stderr closed: nothing sensible left to do
                offset += n
            }
        }
    }

    /// Writes a line to standard output.
    static func output(_ line: String) {
        print(line)
    }

    /// True when standard error is a terminal (progress indicators are shown only then).
    static var stderrIsTerminal: Bool { isatty(2) != 0 }
}

/// A bad-input reason: one line naming the file, stream, station or option (exit status 2).
struct InputError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension ParsableCommand {
    /// Writes `quakewarn <subcommand>: message` to stderr.
    static func printError(_ message: String) {
        Console.error("quakewarn \(configuration.commandName ?? "quakewarn"): \(message)")
    }

    /// Prints the one-line reason and returns exit code 2 (bad input) to throw.
    static func fail(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(2)
    }

    /// Prints the one-line reason and returns exit code 2 (bad input) to throw.
    static func fail(_ error: InputError) -> ExitCode { fail(error.message) }
}

/// A JSON value with insertion-ordered object keys, so output is stable and readable.
enum JSONValue {
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Compact single-line JSON text.
    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .number(let d):
            if d.isFinite {
                // Integral values keep a ".0" so consumers see a float; Swift's description is
                // the shortest representation that round-trips.
                out += d.description
            } else {
                out += "null"
            }
        case .integer(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        JSONText.appendQuoted(s, to: &out)
    }
}

/// A plain-text table with left-aligned text columns and right-aligned numeric columns.
struct TextTable {
    var headers: [String]
    var rightAligned: Set<Int>
    var rows: [[String]] = []

    init(headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    var rendered: String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, width) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: width - cell.count)
                parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
            }
            var text = parts.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        var out = [line(headers), line(widths.map { String(repeating: "-", count: $0) })]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}
