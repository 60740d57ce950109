public import SeismicCore
import Foundation
import Yams

/// The operator's configuration (one YAML file, e.g. `config/lezhi.yaml`): stations, warning
/// targets, alert thresholds, wave speeds, attenuation relation, signing key and CAP sender.
///
/// Load with ``load(path:)``, which decodes with Yams' `YAMLDecoder`, rejects unknown keys and
/// validates every range. Errors are ``ConfigurationError`` values naming the file and the key
/// path, e.g. `config/lezhi.yaml: stations[1].latitudeDegrees: 95.2 is outside -90…90`.
public struct QuakeWarnConfiguration: Sendable, Equatable, Codable {
    /// Accelerometer stations (at least one).
    public var stations: [StationConfiguration]
    /// Places that receive a predicted intensity and countdown in every warning.
    public var targets: [WarningTarget]
    public var alerting: AlertingConfiguration
    public var signing: SigningConfiguration
    public var cap: CAPConfiguration

    public init(stations: [StationConfiguration], targets: [WarningTarget], alerting: AlertingConfiguration,
                signing: SigningConfiguration, cap: CAPConfiguration) {
        self.stations = stations
        self.targets = targets
        self.alerting = alerting
        self.signing = signing
        self.cap = cap
    }
}

/// One three-component accelerometer station.
public struct StationConfiguration: Sendable, Equatable, Codable {
    /// FDSN network code (1–2 characters), e.g. `SC`.
    public var network: String
    /// Station code (1–5 characters, the miniSEED 2 limit), e.g. `NANTA`.
    public var station: String
    /// Free text, e.g. "Nanta subdistrict, Lezhi County".
    public var description: String?
    /// WGS-84 latitude in degrees north.
    public var latitudeDegrees: Double
    /// WGS-84 longitude in degrees east.
    public var longitudeDegrees: Double
    /// Height above sea level in metres.
    public var elevationMeters: Double
    /// False while the coordinates are placeholders that still have to be surveyed.
    public var surveyed: Bool
    /// Location code (0–2 characters), e.g. `00`.
    public var location: String
    /// Channel codes (3 characters each), e.g. `[HNZ, HNN, HNE]`.
    public var channels: [String]
    /// Flat sensitivity in counts per m/s², the same for every channel of the station.
    public var sensitivityCountsPerMetersPerSecondSquared: Double
    /// Nominal sampling rate in Hz.
    public var samplingRateHz: Double

    public init(network: String, station: String, description: String? = nil, latitudeDegrees: Double,
                longitudeDegrees: Double, elevationMeters: Double, surveyed: Bool, location: String,
                channels: [String], sensitivityCountsPerMetersPerSecondSquared: Double, samplingRateHz: Double) {
        self.network = network
        self.station = station
        self.description = description
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
        self.elevationMeters = elevationMeters
        self.surveyed = surveyed
        self.location = location
        self.channels = channels
        self.sensitivityCountsPerMetersPerSecondSquared = sensitivityCountsPerMetersPerSecondSquared
        self.samplingRateHz = samplingRateHz
    }

    /// The station as SeismicCore metadata (one ``ChannelMetadata`` per channel).
    public var metadata: StationMetadata {
        StationMetadata(
            network: network, station: station, latitudeDegrees: latitudeDegrees,
            longitudeDegrees: longitudeDegrees, elevationMeters: elevationMeters,
            channels: channels.map {
                ChannelMetadata(location: location, channel: $0,
                                sensitivityCountsPerMetersPerSecondSquared: sensitivityCountsPerMetersPerSecondSquared,
                                samplingRateHz: samplingRateHz)
            })
    }

    /// Station coordinates.
    public var position: GeoPoint {
        GeoPoint(latitudeDegrees: latitudeDegrees, longitudeDegrees: longitudeDegrees)
    }
}

/// What kind of place a warning target is.
public enum TargetKind: String, Sendable, Codable, CaseIterable {
    case countySeat
    case town
    case school
    case hospital
    case mall
    case supermarket
    case other
}

/// A place that receives a predicted intensity and an S-wave countdown.
public struct WarningTarget: Sendable, Equatable, Codable {
    public var name: String
    public var kind: TargetKind
    public var latitudeDegrees: Double
    public var longitudeDegrees: Double

    public init(name: String, kind: TargetKind, latitudeDegrees: Double, longitudeDegrees: Double) {
        self.name = name
        self.kind = kind
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
    }

    public var position: GeoPoint {
        GeoPoint(latitudeDegrees: latitudeDegrees, longitudeDegrees: longitudeDegrees)
    }
}

/// Alert decision and prediction parameters.
public struct AlertingConfiguration: Sendable, Equatable, Codable {
    /// Events below this magnitude are not alerted. Default 4.0 (the Yunnan practice noted in
    /// peers-protocols.md; the Sichuan value was not retrieved).
    public var minimumMagnitude: Double
    /// P-wave speed in km/s (default 6.0, upper-crust average).
    public var pWaveVelocityKilometersPerSecond: Double
    /// S-wave speed in km/s (default 3.5, as ISNet uses; algorithms.md §7).
    public var sWaveVelocityKilometersPerSecond: Double
    /// GB 18306-2015 attenuation region (default ``IntensityAttenuationRegion/central``).
    public var attenuationRegion: IntensityAttenuationRegion
    /// Axis of the elliptical relation (default ``AttenuationAxis/maximum``, conservative).
    public var attenuationAxis: AttenuationAxis
    /// Predicted-intensity thresholds of the warning levels.
    public var warningLevels: WarningLevelThresholds
    /// Status of the messages this installation sends (`Actual`, `Exercise` for drills, `Test`).
    public var status: WarningStatus
    /// Upper bound of the CAP alert-zone radius in km (default 300). The zone reaches out to where
    /// the predicted intensity falls to the blue level, which for the default blue threshold (1.5)
    /// is thousands of km for M ≥ 6, far beyond where an isoseismal-based attenuation relation is
    /// constrained (a few hundred km). Targets with a level above none are always inside the zone.
    public var maximumAlertRadiusKilometers: Double

    public init(minimumMagnitude: Double = 4.0, pWaveVelocityKilometersPerSecond: Double = 6.0,
                sWaveVelocityKilometersPerSecond: Double = 3.5, attenuationRegion: IntensityAttenuationRegion = .central,
                attenuationAxis: AttenuationAxis = .maximum, warningLevels: WarningLevelThresholds = .default,
                status: WarningStatus = .actual, maximumAlertRadiusKilometers: Double = 300) {
        self.minimumMagnitude = minimumMagnitude
        self.pWaveVelocityKilometersPerSecond = pWaveVelocityKilometersPerSecond
        self.sWaveVelocityKilometersPerSecond = sWaveVelocityKilometersPerSecond
        self.attenuationRegion = attenuationRegion
        self.attenuationAxis = attenuationAxis
        self.warningLevels = warningLevels
        self.status = status
        self.maximumAlertRadiusKilometers = maximumAlertRadiusKilometers
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AlertingConfiguration()
        minimumMagnitude = try c.decodeIfPresent(Double.self, forKey: .minimumMagnitude) ?? d.minimumMagnitude
        pWaveVelocityKilometersPerSecond = try c.decodeIfPresent(Double.self, forKey: .pWaveVelocityKilometersPerSecond)
            ?? d.pWaveVelocityKilometersPerSecond
        sWaveVelocityKilometersPerSecond = try c.decodeIfPresent(Double.self, forKey: .sWaveVelocityKilometersPerSecond)
            ?? d.sWaveVelocityKilometersPerSecond
        attenuationRegion = try c.decodeIfPresent(IntensityAttenuationRegion.self, forKey: .attenuationRegion)
            ?? d.attenuationRegion
        attenuationAxis = try c.decodeIfPresent(AttenuationAxis.self, forKey: .attenuationAxis) ?? d.attenuationAxis
        warningLevels = try c.decodeIfPresent(WarningLevelThresholds.self, forKey: .warningLevels) ?? d.warningLevels
        status = try c.decodeIfPresent(WarningStatus.self, forKey: .status) ?? d.status
        maximumAlertRadiusKilometers = try c.decodeIfPresent(Double.self, forKey: .maximumAlertRadiusKilometers)
            ?? d.maximumAlertRadiusKilometers
    }

    /// The attenuation relation these settings select.
    public var attenuation: IntensityAttenuation {
        IntensityAttenuation(region: attenuationRegion, axis: attenuationAxis)
    }
}

/// Where the Ed25519 signing key lives.
public struct SigningConfiguration: Sendable, Equatable, Codable {
    /// Path of the private key file written by `quakewarn keys generate` (relative paths are
    /// relative to the configuration file's directory).
    public var privateKeyPath: String

    public init(privateKeyPath: String) {
        self.privateKeyPath = privateKeyPath
    }
}

/// CAP 1.2 rendering settings.
public struct CAPConfiguration: Sendable, Equatable, Codable {
    /// CAP `sender` (no spaces, commas, `<` or `&`), e.g. `quakewarn@lezhi.example`.
    public var sender: String
    /// Human-readable sender name (CAP `senderName`).
    public var senderName: String?
    /// CAP `language` (RFC 3066), default `en-US`.
    public var language: String
    /// Offset of the local time written in CAP date-times, in minutes (default 480 = UTC+08:00).
    public var utcOffsetMinutes: Int

    public init(sender: String, senderName: String? = nil, language: String = "en-US", utcOffsetMinutes: Int = 480) {
        self.sender = sender
        self.senderName = senderName
        self.language = language
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sender = try c.decode(String.self, forKey: .sender)
        senderName = try c.decodeIfPresent(String.self, forKey: .senderName)
        language = try c.decodeIfPresent(String.self, forKey: .language) ?? "en-US"
        utcOffsetMinutes = try c.decodeIfPresent(Int.self, forKey: .utcOffsetMinutes) ?? 480
    }
}

/// A configuration file that cannot be used, with the file, the key path and the reason.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as given to ``QuakeWarnConfiguration/load(path:)``.
    public var file: String
    /// Dotted key path with array indices, e.g. `stations[1].latitudeDegrees` (empty for the file
    /// as a whole).
    public var keyPath: String
    public var reason: String

    public init(file: String, keyPath: String, reason: String) {
        self.file = file
        self.keyPath = keyPath
        self.reason = reason
    }

    /// One line: `file: keyPath: reason`.
    public var description: String {
        keyPath.isEmpty ? "\(file): \(reason)" : "\(file): \(keyPath): \(reason)"
    }
}

extension QuakeWarnConfiguration {
    /// Reads, decodes and validates a YAML configuration file.
    /// - Throws: ``ConfigurationError`` (unreadable file, YAML syntax, missing or unknown key,
    ///   wrong type, value out of range).
    public static func load(path: String) throws(ConfigurationError) -> QuakeWarnConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(file: path, keyPath: "", reason: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, keyPath: "", reason: "not UTF-8 text")
        }
        return try parse(yaml: text, file: path)
    }

    /// Decodes and validates YAML text; `file` is used in error messages only.
    public static func parse(yaml text: String, file: String) throws(ConfigurationError) -> QuakeWarnConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(file: file, keyPath: "", reason: "invalid YAML: \(oneLine("\(error)"))")
        }
        guard let node else { throw ConfigurationError(file: file, keyPath: "", reason: "the file is empty") }
        if let (keyPath, key) = ConfigurationSchema.firstUnknownKey(in: node) {
            throw ConfigurationError(file: file, keyPath: keyPath, reason: "unknown key '\(key)'")
        }
        let configuration: QuakeWarnConfiguration
        do {
            configuration = try YAMLDecoder().decode(QuakeWarnConfiguration.self, from: text)
        } catch let error as DecodingError {
            throw describe(error, file: file)
        } catch {
            throw ConfigurationError(file: file, keyPath: "", reason: oneLine("\(error)"))
        }
        if let problem = configuration.firstProblem() {
            throw ConfigurationError(file: file, keyPath: problem.keyPath, reason: problem.reason)
        }
        return configuration
    }

    /// The private key path, resolved against the directory of `configurationFile` when relative.
    public func resolvedPrivateKeyPath(configurationFile: String) -> String {
        let path = signing.privateKeyPath
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: configurationFile).deletingLastPathComponent().appendingPathComponent(path).path
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func keyPath(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }

    private static func describe(_ error: DecodingError, file: String) -> ConfigurationError {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = keyPath(context.codingPath)
            return ConfigurationError(file: file, keyPath: parent.isEmpty ? key.stringValue : parent + "." + key.stringValue,
                                      reason: "required key is missing")
        case .typeMismatch(let type, let context):
            return ConfigurationError(file: file, keyPath: keyPath(context.codingPath),
                                      reason: "expected \(typeName(type)) (\(oneLine(context.debugDescription)))")
        case .valueNotFound(let type, let context):
            return ConfigurationError(file: file, keyPath: keyPath(context.codingPath),
                                      reason: "expected \(typeName(type)), found no value")
        case .dataCorrupted(let context):
            return ConfigurationError(file: file, keyPath: keyPath(context.codingPath),
                                      reason: oneLine(context.debugDescription))
        @unknown default:
            return ConfigurationError(file: file, keyPath: "", reason: oneLine("\(error)"))
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: "a number"
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}

/// Range checks after decoding.
extension QuakeWarnConfiguration {
    struct Problem {
        var keyPath: String
        var reason: String
    }

    /// The first invalid value in document order, or nil when the configuration is usable.
    func firstProblem() -> Problem? {
        func number(_ value: Double, _ range: ClosedRange<Double>, _ path: String) -> Problem? {
            guard value.isFinite, range.contains(value) else {
                let bounds = format(range.lowerBound) + "…" + format(range.upperBound)
                return Problem(keyPath: path, reason: "\(value) is outside \(bounds)")
            }
            return nil
        }
        func code(_ value: String, _ lengths: ClosedRange<Int>, _ path: String) -> Problem? {
            let ok = lengths.contains(value.utf8.count)
                && value.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) }
            guard ok else {
                let count = "\(lengths.lowerBound)–\(lengths.upperBound)"
                return Problem(keyPath: path, reason: "'\(value)' must be \(count) characters A–Z, 0–9")
            }
            return nil
        }
        if stations.isEmpty { return Problem(keyPath: "stations", reason: "at least one station is required") }
        var seenStations = Set<String>()
        for (i, s) in stations.enumerated() {
            let p = "stations[\(i)]"
            if let e = code(s.network, 1...2, p + ".network") { return e }
            if let e = code(s.station, 1...5, p + ".station") { return e }
            if let e = code(s.location, 0...2, p + ".location") { return e }
            if let e = number(s.latitudeDegrees, -90...90, p + ".latitudeDegrees") { return e }
            if let e = number(s.longitudeDegrees, -180...180, p + ".longitudeDegrees") { return e }
            if let e = number(s.elevationMeters, -500...9000, p + ".elevationMeters") { return e }
            if s.channels.isEmpty { return Problem(keyPath: p + ".channels", reason: "at least one channel is required") }
            for (j, channel) in s.channels.enumerated() {
                if let e = code(channel, 3...3, p + ".channels[\(j)]") { return e }
            }
            if let e = number(s.sensitivityCountsPerMetersPerSecondSquared, 1e-6...1e15,
                              p + ".sensitivityCountsPerMetersPerSecondSquared") { return e }
            if let e = number(s.samplingRateHz, 0.001...10_000, p + ".samplingRateHz") { return e }
            let id = s.network + "." + s.station
            if !seenStations.insert(id).inserted { return Problem(keyPath: p + ".station", reason: "duplicate station \(id)") }
        }
        var seenTargets = Set<String>()
        for (i, t) in targets.enumerated() {
            let p = "targets[\(i)]"
            if t.name.trimmingCharacters(in: .whitespaces).isEmpty {
                return Problem(keyPath: p + ".name", reason: "empty name")
            }
            if let e = number(t.latitudeDegrees, -90...90, p + ".latitudeDegrees") { return e }
            if let e = number(t.longitudeDegrees, -180...180, p + ".longitudeDegrees") { return e }
            if !seenTargets.insert(t.name).inserted {
                return Problem(keyPath: p + ".name", reason: "duplicate target '\(t.name)'")
            }
        }
        let a = alerting
        if let e = number(a.minimumMagnitude, -2...10, "alerting.minimumMagnitude") { return e }
        if let e = number(a.pWaveVelocityKilometersPerSecond, 1...10, "alerting.pWaveVelocityKilometersPerSecond") { return e }
        if let e = number(a.sWaveVelocityKilometersPerSecond, 0.5...6, "alerting.sWaveVelocityKilometersPerSecond") { return e }
        if a.sWaveVelocityKilometersPerSecond >= a.pWaveVelocityKilometersPerSecond {
            return Problem(keyPath: "alerting.sWaveVelocityKilometersPerSecond",
                           reason: "\(a.sWaveVelocityKilometersPerSecond) must be below "
                               + "pWaveVelocityKilometersPerSecond (\(a.pWaveVelocityKilometersPerSecond))")
        }
        if let e = number(a.maximumAlertRadiusKilometers, 1...20_000, "alerting.maximumAlertRadiusKilometers") { return e }
        let levels = a.warningLevels
        let ordered: [(String, Double)] = [("blueMinimumIntensity", levels.blueMinimumIntensity),
                                           ("yellowMinimumIntensity", levels.yellowMinimumIntensity),
                                           ("orangeMinimumIntensity", levels.orangeMinimumIntensity),
                                           ("redMinimumIntensity", levels.redMinimumIntensity)]
        for (k, (name, value)) in ordered.enumerated() {
            if let e = number(value, 1...12, "alerting.warningLevels." + name) { return e }
            if k > 0, value <= ordered[k - 1].1 {
                return Problem(keyPath: "alerting.warningLevels." + name,
                               reason: "\(value) must be above \(ordered[k - 1].0) (\(ordered[k - 1].1))")
            }
        }
        if signing.privateKeyPath.isEmpty { return Problem(keyPath: "signing.privateKeyPath", reason: "empty path") }
        if cap.sender.isEmpty || cap.sender.contains(where: { $0 == " " || $0 == "," || $0 == "<" || $0 == "&" }) {
            return Problem(keyPath: "cap.sender",
                           reason: "'\(cap.sender)' must be non-empty without spaces, commas, '<' or '&' (CAP 1.2 §3.2.1)")
        }
        if cap.language.isEmpty || !cap.language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            return Problem(keyPath: "cap.language", reason: "'\(cap.language)' is not a language tag such as en-US or zh-CN")
        }
        if !(-720...840).contains(cap.utcOffsetMinutes) {
            return Problem(keyPath: "cap.utcOffsetMinutes", reason: "\(cap.utcOffsetMinutes) is outside -720…840")
        }
        return nil
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The keys each mapping of the configuration may contain (unknown keys are typos, and a typo in
/// an optional key would otherwise silently select its default).
enum ConfigurationSchema {
    static let root: Set<String> = ["stations", "targets", "alerting", "signing", "cap"]
    static let station: Set<String> = ["network", "station", "description", "latitudeDegrees", "longitudeDegrees",
                                       "elevationMeters", "surveyed", "location", "channels",
                                       "sensitivityCountsPerMetersPerSecondSquared", "samplingRateHz"]
    static let target: Set<String> = ["name", "kind", "latitudeDegrees", "longitudeDegrees"]
    static let alerting: Set<String> = ["minimumMagnitude", "pWaveVelocityKilometersPerSecond",
                                        "sWaveVelocityKilometersPerSecond", "attenuationRegion", "attenuationAxis",
                                        "warningLevels", "status", "maximumAlertRadiusKilometers"]
    static let levels: Set<String> = ["blueMinimumIntensity", "yellowMinimumIntensity", "orangeMinimumIntensity",
                                      "redMinimumIntensity"]
    static let signing: Set<String> = ["privateKeyPath"]
    static let cap: Set<String> = ["sender", "senderName", "language", "utcOffsetMinutes"]

    /// (key path of the mapping, unknown key) of the first unknown key, or nil.
    static func firstUnknownKey(in root: Node) -> (String, String)? {
        func check(_ node: Node?, _ allowed: Set<String>, _ path: String) -> (String, String)? {
            guard let mapping = node?.mapping else { return nil }  // type errors are reported by the decoder
            for (key, _) in mapping {
                let name = key.string ?? "\(key)"
                if !allowed.contains(name) { return (path.isEmpty ? name : path + "." + name, name) }
            }
            return nil
        }
        if let e = check(root, Self.root, "") { return e }
        for (i, s) in (root["stations"]?.sequence ?? []).enumerated() {
            if let e = check(s, station, "stations[\(i)]") { return e }
        }
        for (i, t) in (root["targets"]?.sequence ?? []).enumerated() {
            if let e = check(t, target, "targets[\(i)]") { return e }
        }
        if let e = check(root["alerting"], alerting, "alerting") { return e }
        if let e = check(root["alerting"]?["warningLevels"], levels, "alerting.warningLevels") { return e }
        if let e = check(root["signing"], signing, "signing") { return e }
        if let e = check(root["cap"], cap, "cap") { return e }
        return nil
    }
}
