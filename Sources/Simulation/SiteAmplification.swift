#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The site amplification A(f) of the stochastic model (Boore 2003, "Site effects": the site
/// filter is G(f) = A(f) · D(f), with D(f) = exp(−π κ0 f)).
public enum SiteAmplification: Sendable, Equatable, Hashable {
    /// A(f) = 1 (the motion of the source-region rock at the free surface).
    case none
    /// Generic rock with V_S30 = 760 m/s: the square-root-impedance (quarter-wavelength)
    /// amplification (Boore 2003, "Site effects"; Joyner, Warrick & Fumal 1981) of the generic
    /// velocity and density profile of Boore (2016), "Determining generic velocity and density
    /// models for crustal amplification calculations, with an update of the Boore and Joyner
    /// (1997) generic site amplification for V_S(Z) = 760 m/s", BSSA 106(1), 316–320. The profile
    /// points are ``GenericRockProfile/points`` (transcribed from the tabulation of that model in
    /// the pygmm package's data file `boore_2016_bj97gr760.csv`); we interpolate linearly
    /// between them. A(f) ≈ 1.1 at 0.1 Hz, ≈ 1.9 at 2 Hz and → 4.0 at high frequency for the
    /// default source ρ = 2.8 g/cm³, β = 3.5 km/s. This is the reference condition of modern
    /// GMPEs (V_S30 = 760 m/s), a reasonable stand-in for a stiff-soil/rock station site; the real
    /// Nanta and Gaosi sites have not been characterised.
    case genericRock760

    /// A(f) at `frequencyHz` for a source region with density `sourceDensity` g/cm³ and shear
    /// velocity `sourceVelocity` km/s.
    public func amplification(frequencyHz f: Double, sourceDensity: Double, sourceVelocity: Double) -> Double {
        switch self {
        case .none: return 1
        case .genericRock760:
            guard f > 0 else { return 1 }
            let (velocity, density) = GenericRockProfile.quarterWavelengthAverages(frequencyHz: f)
            return (sourceDensity * sourceVelocity / (density * velocity)).squareRoot()
        }
    }
}

/// The generic V_S30 = 760 m/s crustal profile of Boore (2016) (see
/// ``SiteAmplification/genericRock760``), as (depth km, V_S km/s, density g/cm³) points joined by
/// straight lines; constant below the last point. Repeated depths are velocity steps.
public enum GenericRockProfile {
    public static let points: [(depthKilometers: Double, velocityKilometersPerSecond: Double, densityGramsPerCubicCentimeter: Double)] = [
        (0.000, 0.314, 1.934), (0.001, 0.314, 1.934), (0.001, 0.427, 1.989), (0.002, 0.512, 2.024),
        (0.003, 0.569, 2.046), (0.005, 0.649, 2.075), (0.008, 0.731, 2.103), (0.011, 0.793, 2.122),
        (0.014, 0.843, 2.136), (0.018, 0.898, 2.152), (0.022, 0.944, 2.164), (0.030, 1.020, 2.184),
        (0.044, 1.176, 2.222), (0.064, 1.348, 2.260), (0.082, 1.474, 2.287), (0.102, 1.594, 2.312),
        (0.126, 1.718, 2.338), (0.150, 1.826, 2.360), (0.190, 1.984, 2.392), (0.250, 2.080, 2.412),
        (0.300, 2.147, 2.426), (0.450, 2.308, 2.459), (0.550, 2.393, 2.477), (0.650, 2.467, 2.493),
        (0.800, 2.561, 2.513), (0.900, 2.614, 2.524), (1.000, 2.663, 2.535), (1.450, 2.839, 2.573),
        (2.050, 3.014, 2.612), (2.400, 3.094, 2.629), (2.850, 3.180, 2.648), (3.400, 3.271, 2.668),
        (4.000, 3.357, 2.687), (5.200, 3.418, 2.701), (6.650, 3.478, 2.714), (7.850, 3.519, 2.723),
    ]

    /// The quarter-wavelength depth z(f), where the vertical S travel time from the surface is
    /// `1/(4f)`, and the averages to that depth: `V̄ = z / (1/(4f))` (km/s) and the
    /// depth-averaged density ρ̄ (g/cm³) (Boore 2003, "Site effects").
    ///
    /// - Complexity: O(number of profile points).
    public static func quarterWavelengthAverages(frequencyHz f: Double) -> (velocity: Double, density: Double) {
        let target = 1 / (4 * f)
        var time = 0.0
        var densityIntegral = 0.0
        for i in 1..<points.count {
            let (z1, v1, r1) = points[i - 1]
            let (z2, v2, r2) = points[i]
            let dz = z2 - z1
            guard dz > 0 else { continue }
            let dv = v2 - v1
            // Travel time through a layer with linear velocity: dz/dv · ln(v2/v1) (dz/v if constant).
            let layerTime = abs(dv) < 1e-12 ? dz / v1 : dz / dv * log(v2 / v1)
            if time + layerTime >= target {
                let t = target - time
                let z: Double
                if abs(dv) < 1e-12 {
                    z = z1 + t * v1
                } else {
                    let v = v1 * exp(t * dv / dz)
                    z = z1 + (v - v1) * dz / dv
                }
                let r = r1 + (r2 - r1) * (z - z1) / dz
                densityIntegral += 0.5 * (r1 + r) * (z - z1)
                return (z / target, densityIntegral / z)
            }
            time += layerTime
            densityIntegral += 0.5 * (r1 + r2) * dz
        }
        // Below the profile: constant velocity and density of the last point.
        guard let last = points.last else { return (1, 1) }
        let z = last.depthKilometers + (target - time) * last.velocityKilometersPerSecond
        densityIntegral += (z - last.depthKilometers) * last.densityGramsPerCubicCentimeter
        return (z / target, densityIntegral / z)
    }
}
