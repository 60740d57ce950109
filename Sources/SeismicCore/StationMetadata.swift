/// Where a station is and how its channels convert counts to physical units.
public struct StationMetadata: Sendable, Equatable, Codable {
    /// `NET.STA`, e.g. `SC.NANTA`.
    public var network: String
    public var station: String
    /// WGS-84 latitude in degrees north.
    public var latitudeDegrees: Double
    /// WGS-84 longitude in degrees east.
    public var longitudeDegrees: Double
    /// Height above sea level in meters.
    public var elevationMeters: Double
    /// Per-channel metadata, keyed by channel code (e.g. `HNZ`).
    public var channels: [ChannelMetadata]

    public init(network: String, station: String, latitudeDegrees: Double, longitudeDegrees: Double,
                elevationMeters: Double, channels: [ChannelMetadata]) {
        self.network = network
        self.station = station
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
        self.elevationMeters = elevationMeters
        self.channels = channels
    }

    /// The metadata of channel `code`, if the station has it.
    public func channel(_ code: String) -> ChannelMetadata? { channels.first { $0.channel == code } }
}

/// One sensor channel of a station.
public struct ChannelMetadata: Sendable, Equatable, Codable {
    public var location: String
    public var channel: String
    /// Overall sensitivity of an accelerometer channel in counts per m/s² (flat passband gain).
    public var sensitivityCountsPerMetersPerSecondSquared: Double
    /// Nominal sampling rate in Hz.
    public var samplingRateHz: Double

    public init(location: String, channel: String, sensitivityCountsPerMetersPerSecondSquared: Double,
                samplingRateHz: Double) {
        self.location = location
        self.channel = channel
        self.sensitivityCountsPerMetersPerSecondSquared = sensitivityCountsPerMetersPerSecondSquared
        self.samplingRateHz = samplingRateHz
    }

    /// Converts raw counts to acceleration in m/s² by the flat sensitivity.
    @inlinable
    public func metersPerSecondSquared(fromCounts counts: Double) -> Double {
        counts / sensitivityCountsPerMetersPerSecondSquared
    }
}
