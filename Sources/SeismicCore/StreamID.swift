/// An FDSN stream identifier, `NET.STA.LOC.CHA` (network, station, location, channel).
///
/// The location code may be empty (`BW.RJOB..EHZ`). Codes are stored as given, trimmed of the
/// space padding that fixed-width SEED headers use.
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public var network: String
    public var station: String
    public var location: String
    public var channel: String

    public init(network: String, station: String, location: String, channel: String) {
        self.network = network
        self.station = station
        self.location = location
        self.channel = channel
    }

    /// Parses `NET.STA.LOC.CHA` (exactly four dot-separated fields; LOC may be empty).
    /// Returns nil if the text does not have four fields or the network, station or channel is empty.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[0].isEmpty, !parts[1].isEmpty, !parts[3].isEmpty else { return nil }
        self.init(network: String(parts[0]), station: String(parts[1]), location: String(parts[2]),
                  channel: String(parts[3]))
    }

    /// `NET.STA.LOC.CHA`.
    public var description: String { "\(network).\(station).\(location).\(channel)" }

    /// The station this stream belongs to, `NET.STA`.
    public var stationCode: String { "\(network).\(station)" }

    /// The orientation code (last character of the channel), e.g. `Z`, `N`, `E`, `1`, `2`.
    public var component: Character? { channel.last }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = StreamID(text) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "stream id '\(text)' is not NET.STA.LOC.CHA")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
