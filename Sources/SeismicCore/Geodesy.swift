// Spherical-Earth geodesy shared by every module: great-circle distance, initial bearing,
// destination point, hypocentral distance.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the Earth's surface (WGS-84 coordinates), degrees: latitude north positive
/// (−90…90), longitude east positive (−180…180).
public struct GeoPoint: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var latitudeDegrees: Double
    public var longitudeDegrees: Double

    public init(latitudeDegrees: Double, longitudeDegrees: Double) {
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
    }

    public var description: String {
        "(\(latitudeDegrees)°, \(longitudeDegrees)°)"
    }
}

/// Great-circle formulas on a sphere of radius ``earthRadiusKilometers`` (6371.0 km, the IUGG
/// mean radius). The spherical approximation errs by up to ≈ 0.5 % in distance against the
/// ellipsoid, far below the uncertainty of any single-station or two-station location.
///
/// Formulas (standard spherical trigonometry, e.g. Snyder 1987, *Map Projections — A Working
/// Manual*, USGS PP 1395, eqs. 5-3a, 5-4b and 5-5):
/// ```
/// haversine distance  a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2),  d = 2R asin(√a)
/// initial bearing     θ = atan2(sin Δλ cos φ2, cos φ1 sin φ2 − sin φ1 cos φ2 cos Δλ)
/// destination         φ2 = asin(sin φ1 cos δ + cos φ1 sin δ cos θ)
///                     λ2 = λ1 + atan2(sin θ sin δ cos φ1, cos δ − sin φ1 sin φ2),   δ = d/R
/// ```
/// Bearings are clockwise from north in degrees, normalised to [0, 360).
public enum Geodesy {
    public static let earthRadiusKilometers = 6371.0

    /// Degrees to radians.
    @inlinable public static func radians(_ d: Double) -> Double { d * .pi / 180 }
    /// Radians to degrees.
    @inlinable public static func degrees(_ r: Double) -> Double { r * 180 / .pi }

    /// Wraps an angle in degrees into [0, 360).
    public static func normalizedBearing(_ degrees: Double) -> Double {
        var b = fmod(degrees, 360)
        if b < 0 { b += 360 }
        if b >= 360 { b -= 360 }
        return b
    }

    /// Signed smallest difference `a − b` in degrees, in (−180, 180].
    public static func angleDifference(_ a: Double, _ b: Double) -> Double {
        var d = fmod(a - b, 360)
        if d > 180 { d -= 360 }
        if d <= -180 { d += 360 }
        return d
    }

    /// Great-circle distance in km (haversine form: well conditioned at short range).
    public static func distanceKilometers(from p: GeoPoint, to q: GeoPoint) -> Double {
        let phi1 = radians(p.latitudeDegrees), phi2 = radians(q.latitudeDegrees)
        let dPhi = phi2 - phi1
        let dLambda = radians(q.longitudeDegrees - p.longitudeDegrees)
        let s1 = sin(dPhi / 2), s2 = sin(dLambda / 2)
        let a = s1 * s1 + cos(phi1) * cos(phi2) * s2 * s2
        return 2 * earthRadiusKilometers * asin(min(1, a.squareRoot()))
    }

    /// Initial bearing (azimuth) from `p` towards `q`, degrees clockwise from north in [0, 360).
    public static func bearingDegrees(from p: GeoPoint, to q: GeoPoint) -> Double {
        let phi1 = radians(p.latitudeDegrees), phi2 = radians(q.latitudeDegrees)
        let dLambda = radians(q.longitudeDegrees - p.longitudeDegrees)
        let y = sin(dLambda) * cos(phi2)
        let x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(dLambda)
        return normalizedBearing(degrees(atan2(y, x)))
    }

    /// The point `distanceKilometers` from `start` along the great circle leaving it at
    /// `bearingDegrees` (clockwise from north). Longitude normalised to [−180, 180).
    public static func destination(from start: GeoPoint, bearingDegrees: Double, distanceKilometers: Double) -> GeoPoint {
        let phi1 = radians(start.latitudeDegrees), lambda1 = radians(start.longitudeDegrees)
        let theta = radians(bearingDegrees)
        let delta = distanceKilometers / earthRadiusKilometers
        let sinPhi2 = sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta)
        let phi2 = asin(max(-1, min(1, sinPhi2)))
        let lambda2 = lambda1 + atan2(sin(theta) * sin(delta) * cos(phi1), cos(delta) - sin(phi1) * sinPhi2)
        var lon = degrees(lambda2)
        lon = fmod(lon + 540, 360) - 180
        return GeoPoint(latitudeDegrees: degrees(phi2), longitudeDegrees: lon)
    }

    /// Hypocentral distance `sqrt(Δ² + h²)` in km from an epicentral distance and a depth (km).
    public static func hypocentralDistanceKilometers(epicentralKilometers: Double, depthKilometers: Double) -> Double {
        (epicentralKilometers * epicentralKilometers + depthKilometers * depthKilometers).squareRoot()
    }
}
