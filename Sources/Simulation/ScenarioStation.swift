/// A station to simulate: FDSN codes and position. Channels are always the three accelerometer
/// channels `HNZ`, `HNN`, `HNE` (H: 80–250 sps band, N: accelerometer; Z up, N north, E east).
public struct ScenarioStation: Sendable, Equatable, Hashable {
    /// FDSN network code, 1–2 characters A–Z/0–9.
    public var network: String
    /// Station code, 1–5 characters A–Z/0–9.
    public var station: String
    /// Location code, 0–2 characters A–Z/0–9.
    public var location: String
    /// WGS-84 latitude in degrees north, −90...90.
    public var latitudeDegrees: Double
    /// WGS-84 longitude in degrees east, −180...180.
    public var longitudeDegrees: Double
    /// Elevation above sea level in meters (recorded; the travel-time model ignores it).
    public var elevationMeters: Double

    /// Channel codes of the three components, vertical first.
    public static let channelCodes = ["HNZ", "HNN", "HNE"]

    public init(network: String, station: String, location: String, latitudeDegrees: Double,
                longitudeDegrees: Double, elevationMeters: Double = 0) {
        self.network = network
        self.station = station
        self.location = location
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
        self.elevationMeters = elevationMeters
    }

    /// `NET.STA.LOC`, e.g. `SC.NANTA.00`.
    public var code: String { "\(network).\(station).\(location)" }

    /// Parses `NET.STA.LOC:lat:lon[:elevation_m]`, e.g. `SC.NANTA.00:30.283:105.027:350`.
    /// An empty location is written `NET.STA.:lat:lon`.
    ///
    /// - Throws: ``SimulationError`` naming the spec and the bad part.
    public init(parsing spec: String) throws(SimulationError) {
        let field = "station '\(spec)'"
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4 else {
            throw SimulationError(field: field, reason: "expected NET.STA.LOC:lat:lon[:elevation_m]")
        }
        let codes = parts[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard codes.count == 3 else {
            throw SimulationError(field: field, reason: "'\(parts[0])' is not NET.STA.LOC (use NET.STA. for an empty location)")
        }
        func valid(_ code: String, _ lengths: ClosedRange<Int>) -> Bool {
            lengths.contains(code.utf8.count)
                && code.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) }
        }
        guard valid(codes[0], 1...2) else {
            throw SimulationError(field: field, reason: "network '\(codes[0])' must be 1-2 characters A-Z/0-9")
        }
        guard valid(codes[1], 1...5) else {
            throw SimulationError(field: field, reason: "station '\(codes[1])' must be 1-5 characters A-Z/0-9")
        }
        guard valid(codes[2], 0...2) else {
            throw SimulationError(field: field, reason: "location '\(codes[2])' must be 0-2 characters A-Z/0-9")
        }
        guard let lat = Double(parts[1]), lat.isFinite, (-90...90).contains(lat) else {
            throw SimulationError(field: field, reason: "latitude '\(parts[1])' is not a number in -90...90")
        }
        guard let lon = Double(parts[2]), lon.isFinite, (-180...180).contains(lon) else {
            throw SimulationError(field: field, reason: "longitude '\(parts[2])' is not a number in -180...180")
        }
        var elevation = 0.0
        if parts.count == 4 {
            guard let e = Double(parts[3]), e.isFinite, (-12_000...9_000).contains(e) else {
                throw SimulationError(field: field, reason: "elevation '\(parts[3])' is not a number of meters in -12000...9000")
            }
            elevation = e
        }
        self.init(network: codes[0], station: codes[1], location: codes[2], latitudeDegrees: lat,
                  longitudeDegrees: lon, elevationMeters: elevation)
    }

    /// The two Lezhi County (Sichuan) stations of the emergency plan, **with placeholder
    /// coordinates — to be surveyed**.
    ///
    /// The real sites have not been surveyed yet. The points below are plausible guesses a few
    /// km apart near the Lezhi county seat (≈ 30.28° N, 105.03° E): `SC.NANTA.00` in the county
    /// seat area (Nanta subdistrict) and `SC.GAOSI.00` about 9 km to the north-east (standing in
    /// for Gaosi town). Elevations are a generic 350 m for the hilly Sichuan basin. Replace them
    /// with surveyed values (`--station`) before using distances or arrival times for anything
    /// but drills. Network code `SC` (Sichuan), location `00`.
    public static let lezhiPlaceholders: [ScenarioStation] = [
        ScenarioStation(network: "SC", station: "NANTA", location: "00", latitudeDegrees: 30.283,
                        longitudeDegrees: 105.027, elevationMeters: 350),
        ScenarioStation(network: "SC", station: "GAOSI", location: "00", latitudeDegrees: 30.340,
                        longitudeDegrees: 105.090, elevationMeters: 350),
    ]
}
