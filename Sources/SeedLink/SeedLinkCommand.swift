public import SeismicCore

/// A SeedLink 3.1 client command (there is no formal v3 specification; behaviour follows
/// libslink, ringserver and the SeisComP `seedlink` documentation).
///
/// Commands are ASCII lines terminated by `\r` (optionally followed by `\n`); keywords are
/// case-insensitive. Sequence numbers are 6 hexadecimal digits (24 bits, wrapping at
/// `0xFFFFFF`); times are `YYYY,MM,DD,hh,mm,ss` in UTC (fields need not be zero-padded, as
/// ObsPy sends them; seconds may have a fraction).
///
/// Supported subset: `HELLO`, `CAT`, `BYE`, `STATION sta [net]`, `SELECT [pattern]`,
/// `DATA [seq [begin]]`, `FETCH [seq [begin]]`, `TIME begin [end]`, `END`, and
/// `INFO level` (any level word is parsed; the server answers `ID`, `CAPABILITIES`,
/// `STATIONS` and `STREAMS`). `BATCH` and v4 commands are rejected as `.invalidCommand`.
public enum SeedLinkCommand: Sendable, Equatable, CustomStringConvertible {
    case hello
    case cat
    case bye
    /// `STATION sta [net]` (multi-station mode); `network` is nil when omitted.
    case station(station: String, network: String?)
    /// `SELECT [pattern]`; nil (a bare `SELECT`) clears the selectors of the current station.
    case select(SeedLinkSelector?)
    /// `DATA [seq [begin]]`: real-time transfer starting at packet `sequence` (the next one
    /// wanted, i.e. the last received + 1) or, without it, the server's default.
    case data(sequence: Int?, begin: Timestamp?)
    /// `FETCH [seq [begin]]`: like `DATA` but the server ends with `END` once the data it has
    /// now are sent ("dial-up" mode).
    case fetch(sequence: Int?, begin: Timestamp?)
    /// `TIME begin [end]`: a time window; with `end`, the server ends with `END`.
    case time(begin: Timestamp, end: Timestamp?)
    /// `END`: ends multi-station negotiation and starts the transfer (no reply).
    case end
    /// `INFO level` with `level` upper-cased (`ID`, `STATIONS`, `STREAMS`, …).
    case info(level: String)

    /// Parses one command line (without or with its `\r`/`\n` terminator).
    ///
    /// - Throws: `.invalidCommand`, `.invalidSelector` or `.invalidTime` with the line.
    public static func parse(_ line: some StringProtocol) throws(SeedLinkError) -> SeedLinkCommand {
        let words = String(line).split(whereSeparator: { (c: Character) in c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" }).map(String.init)
        guard let keyword = words.first?.uppercased() else {
            throw SeedLinkError(.invalidCommand, "empty command line")
        }
        let arguments = Array(words.dropFirst())
        func expect(_ range: ClosedRange<Int>) throws(SeedLinkError) {
            guard range.contains(arguments.count) else {
                throw SeedLinkError(.invalidCommand,
                                    "'\(line.trimmingTerminators)': \(keyword) takes \(range.lowerBound)...\(range.upperBound) arguments, got \(arguments.count)")
            }
        }
        switch keyword {
        case "HELLO": try expect(0...0); return .hello
        case "CAT": try expect(0...0); return .cat
        case "BYE": try expect(0...0); return .bye
        case "END": try expect(0...0); return .end
        case "STATION":
            try expect(1...2)
            let station = arguments[0].uppercased()
            let network = arguments.count > 1 ? arguments[1].uppercased() : nil
            guard isCode(station, maxLength: 5), network.map({ isCode($0, maxLength: 2) }) ?? true else {
                throw SeedLinkError(.invalidCommand, "'\(line.trimmingTerminators)': station ≤ 5 and network ≤ 2 characters expected")
            }
            return .station(station: station, network: network)
        case "SELECT":
            try expect(0...1)
            return .select(try arguments.first.map { a throws(SeedLinkError) in try SeedLinkSelector(a) })
        case "DATA", "FETCH":
            try expect(0...2)
            var sequence: Int?
            var begin: Timestamp?
            if arguments.count >= 1 {
                guard let s = parseSequence(arguments[0]) else {
                    throw SeedLinkError(.invalidCommand, "'\(line.trimmingTerminators)': sequence '\(arguments[0])' is not 1-6 hex digits")
                }
                sequence = s
            }
            if arguments.count == 2 { begin = try SeedLinkTime.parse(arguments[1]) }
            return keyword == "DATA" ? .data(sequence: sequence, begin: begin) : .fetch(sequence: sequence, begin: begin)
        case "TIME":
            try expect(1...2)
            let begin = try SeedLinkTime.parse(arguments[0])
            let end = arguments.count == 2 ? try SeedLinkTime.parse(arguments[1]) : nil
            return .time(begin: begin, end: end)
        case "INFO":
            try expect(1...1)
            return .info(level: arguments[0].uppercased())
        default:
            throw SeedLinkError(.invalidCommand, "'\(line.trimmingTerminators)': unknown or unsupported command \(keyword)")
        }
    }

    /// The command line as sent on the wire, terminated by `\r` (as libslink and ObsPy do).
    public var line: String { description + "\r" }

    /// The command without terminator, e.g. `DATA 00002A 2024,01,02,03,04,05`.
    public var description: String {
        switch self {
        case .hello: return "HELLO"
        case .cat: return "CAT"
        case .bye: return "BYE"
        case .end: return "END"
        case .station(let station, let network): return network.map { "STATION \(station) \($0)" } ?? "STATION \(station)"
        case .select(let selector): return selector.map { "SELECT \($0)" } ?? "SELECT"
        case .data(let sequence, let begin): return Self.action("DATA", sequence, begin)
        case .fetch(let sequence, let begin): return Self.action("FETCH", sequence, begin)
        case .time(let begin, let end):
            return "TIME " + SeedLinkTime.format(begin) + (end.map { " " + SeedLinkTime.format($0) } ?? "")
        case .info(let level): return "INFO \(level)"
        }
    }

    /// A sequence number as SeedLink 3 writes it: 6 upper-case hex digits (mod 2^24).
    public static func hex(_ sequence: Int) -> String {
        let value = sequence & 0xFF_FFFF
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    private static func action(_ keyword: String, _ sequence: Int?, _ begin: Timestamp?) -> String {
        guard let sequence else { return keyword }
        return "\(keyword) \(hex(sequence))" + (begin.map { " " + SeedLinkTime.format($0) } ?? "")
    }

    static func parseSequence(_ text: String) -> Int? {
        guard (1...6).contains(text.utf8.count), text.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        return Int(text, radix: 16)
    }

    static func isCode(_ text: String, maxLength: Int) -> Bool {
        (1...maxLength).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x3F || $0 == 0x2A || $0 == 0x5F || $0 == 0x2D }
    }
}

extension UInt8 {
    var isHexDigit: Bool { (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66) }
}

extension StringProtocol {
    var trimmingTerminators: String {
        var s = String(self)
        while let last = s.last, last == "\r" || last == "\n" || last == "\r\n" { s.removeLast() }
        return s
    }
}

/// SeedLink 3 times: `YYYY,MM,DD,hh,mm,ss` (UTC, whole seconds when written).
public enum SeedLinkTime {
    /// Parses `YYYY,MM,DD[,hh[,mm[,ss[.ffffff]]]]`; missing fields are 0.
    public static func parse(_ text: String) throws(SeedLinkError) -> Timestamp {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard (3...6).contains(fields.count) else {
            throw SeedLinkError(.invalidTime, "'\(text)' is not YYYY,MM,DD,hh,mm,ss")
        }
        var ints: [Int] = []
        var nanosecond = 0
        for (i, field) in fields.enumerated() {
            if i == 5, let dot = field.firstIndex(of: ".") {
                let whole = String(field[..<dot])
                var fraction = String(field[field.index(after: dot)...])
                guard let w = Int(whole), fraction.utf8.count <= 9, fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw SeedLinkError(.invalidTime, "'\(text)': bad seconds '\(field)'")
                }
                fraction += String(repeating: "0", count: 9 - fraction.utf8.count)
                ints.append(w)
                nanosecond = Int(fraction) ?? 0
                continue
            }
            guard let v = Int(field), v >= 0 else {
                throw SeedLinkError(.invalidTime, "'\(text)': field \(i + 1) '\(field)' is not a non-negative integer")
            }
            ints.append(v)
        }
        while ints.count < 6 { ints.append(0) }
        guard (1...12).contains(ints[1]), (1...31).contains(ints[2]), ints[3] < 24, ints[4] < 60, ints[5] < 61,
              let t = Timestamp(year: ints[0], month: ints[1], day: ints[2], hour: ints[3], minute: ints[4],
                                second: ints[5], nanosecond: nanosecond) else {
            throw SeedLinkError(.invalidTime, "'\(text)' is not a valid date and time")
        }
        return t
    }

    /// `YYYY,MM,DD,hh,mm,ss`, zero-padded, seconds rounded down.
    public static func format(_ time: Timestamp) -> String {
        let c = time.components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year),\(two(c.month)),\(two(c.day)),\(two(c.hour)),\(two(c.minute)),\(two(c.second))"
    }
}
