public import SeismicCore

/// A SeedLink 3 `SELECT` pattern: `[!][LL]CCC[.T]`.
///
/// Supported subset (documented for `quakewarn feed`):
/// - `CCC` (3 characters): channel only, any location. `LLCCC` (5 characters): location and
///   channel; a blank location is written as two spaces or `--`. `LL` alone is not accepted.
/// - `?` matches any one character (also a blank location position). `*` is not part of
///   SeedLink 3 selectors and is rejected.
/// - `.T`: the packet type; only `D` (data) packets are served by the feed, so `.D` matches and
///   `.E`, `.C`, `.T`, `.L`, `.O` never match a data record.
/// - A leading `!` negates the pattern: a stream is selected when it matches at least one
///   positive pattern (or there are none) and no negative pattern.
public struct SeedLinkSelector: Sendable, Equatable, CustomStringConvertible {
    /// Location pattern (2 characters, blank as spaces) or nil for any location.
    public var location: String?
    /// Channel pattern (3 characters).
    public var channel: String
    /// Packet type (`D`, `E`, `C`, `T`, `L`, `O`) or nil for any.
    public var type: Character?
    public var negated: Bool

    public init(_ text: String) throws(SeedLinkError) {
        var body = Substring(text)
        negated = body.first == "!"
        if negated { body = body.dropFirst() }
        type = nil
        if let dot = body.firstIndex(of: ".") {
            let t = body[body.index(after: dot)...].uppercased()
            guard t.count == 1, let c = t.first, "DECTLO".contains(c) else {
                throw SeedLinkError(.invalidSelector, "'\(text)': type must be one of D, E, C, T, L, O")
            }
            type = c
            body = body[..<dot]
        }
        let upper = String(body.uppercased().map { $0 == "-" ? " " : $0 })
        let chars = Array(upper)
        guard chars.allSatisfy({ $0 == "?" || $0 == " " || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
            throw SeedLinkError(.invalidSelector, "'\(text)': only letters, digits and ? are allowed")
        }
        switch chars.count {
        case 3:
            location = nil
            channel = String(chars)
        case 5:
            location = String(chars[0..<2])
            channel = String(chars[2..<5])
        default:
            throw SeedLinkError(.invalidSelector, "'\(text)': expected CCC or LLCCC with optional .T")
        }
        guard !channel.contains(" ") else {
            throw SeedLinkError(.invalidSelector, "'\(text)': the channel cannot be blank")
        }
    }

    /// `[!][LL]CCC[.T]` with a blank location written as `--`.
    public var description: String {
        (negated ? "!" : "") + (location.map { String($0.map { $0 == " " ? "-" : $0 }) } ?? "") + channel
            + (type.map { ".\($0)" } ?? "")
    }

    /// Whether the pattern (ignoring negation) matches a stream's packets of type `packetType`.
    public func matches(_ id: StreamID, packetType: Character = "D") -> Bool {
        if let type, type != packetType { return false }
        if let location, !Self.match(location, padded(id.location, 2)) { return false }
        return Self.match(channel, padded(id.channel, 3))
    }

    /// Applies a station's selector list: no selectors select everything.
    public static func selects(_ selectors: [SeedLinkSelector], _ id: StreamID, packetType: Character = "D") -> Bool {
        let positive = selectors.filter { !$0.negated }
        if !positive.isEmpty, !positive.contains(where: { $0.matches(id, packetType: packetType) }) { return false }
        return !selectors.contains { $0.negated && $0.matches(id, packetType: packetType) }
    }

    private func padded(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    private static func match(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern), v = Array(value.uppercased())
        guard p.count == v.count else { return false }
        for (a, b) in zip(p, v) where a != "?" && a != b { return false }
        return true
    }
}
