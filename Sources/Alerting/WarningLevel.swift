/// Warning level of a target, by predicted intensity (colour scale used by Chinese provincial
/// early-warning release standards).
///
/// Ordered: `none < blue < yellow < orange < red`.
public enum WarningLevel: String, Sendable, Codable, CaseIterable, Comparable {
    /// Below the lowest threshold: no warning for this target.
    case none
    case blue
    case yellow
    case orange
    case red

    private var rank: Int {
        switch self {
        case .none: 0
        case .blue: 1
        case .yellow: 2
        case .orange: 3
        case .red: 4
        }
    }

    public static func < (lhs: WarningLevel, rhs: WarningLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Lowest predicted intensity (China scale, instrumental value) of each warning level.
///
/// The Sichuan release standard DB51/T 3283-2025 was not retrieved, so its thresholds are
/// unknown. The defaults follow the Yunnan practice recorded in the project notes (red ≥ VII,
/// orange V–VI, yellow III–IV, blue below III), converted to instrumental intensity with the
/// convention that instrumental intensity value I belongs to degree n when n − 0.5 ≤ I < n + 0.5
/// (**UNCERTAIN**: recalled from the GB/T 17742-2020 table, not checked against the text): red ≥ 6.5,
/// orange ≥ 4.5, yellow ≥ 2.5, and blue from 1.5 (degree II, felt by a few people at rest indoors).
/// The lower bound of blue is our choice. All four are configurable (`alerting.warningLevels`).
public struct WarningLevelThresholds: Sendable, Equatable, Codable {
    public var blueMinimumIntensity: Double
    public var yellowMinimumIntensity: Double
    public var orangeMinimumIntensity: Double
    public var redMinimumIntensity: Double

    public init(blueMinimumIntensity: Double = 1.5, yellowMinimumIntensity: Double = 2.5,
                orangeMinimumIntensity: Double = 4.5, redMinimumIntensity: Double = 6.5) {
        self.blueMinimumIntensity = blueMinimumIntensity
        self.yellowMinimumIntensity = yellowMinimumIntensity
        self.orangeMinimumIntensity = orangeMinimumIntensity
        self.redMinimumIntensity = redMinimumIntensity
    }

    /// The default thresholds described above.
    public static let `default` = WarningLevelThresholds()

    /// Decodes the thresholds; a missing key takes its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WarningLevelThresholds()
        blueMinimumIntensity = try c.decodeIfPresent(Double.self, forKey: .blueMinimumIntensity) ?? d.blueMinimumIntensity
        yellowMinimumIntensity = try c.decodeIfPresent(Double.self, forKey: .yellowMinimumIntensity)
            ?? d.yellowMinimumIntensity
        orangeMinimumIntensity = try c.decodeIfPresent(Double.self, forKey: .orangeMinimumIntensity)
            ?? d.orangeMinimumIntensity
        redMinimumIntensity = try c.decodeIfPresent(Double.self, forKey: .redMinimumIntensity) ?? d.redMinimumIntensity
    }

    /// The level of a predicted intensity (`intensity ≥ threshold` enters the level).
    public func level(forIntensity intensity: Double) -> WarningLevel {
        if intensity >= redMinimumIntensity { return .red }
        if intensity >= orangeMinimumIntensity { return .orange }
        if intensity >= yellowMinimumIntensity { return .yellow }
        if intensity >= blueMinimumIntensity { return .blue }
        return .none
    }

    /// Lowest intensity of `level` (nil for ``WarningLevel/none``).
    public func minimumIntensity(of level: WarningLevel) -> Double? {
        switch level {
        case .none: nil
        case .blue: blueMinimumIntensity
        case .yellow: yellowMinimumIntensity
        case .orange: orangeMinimumIntensity
        case .red: redMinimumIntensity
        }
    }
}
