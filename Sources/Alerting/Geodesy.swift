import Foundation

/// A point on the WGS-84 ellipsoid, in degrees.
public struct GeographicPoint: Sendable, Hashable, Codable {
    /// Latitude in degrees north (−90…90).
    public var latitudeDegrees: Double
    /// Longitude in degrees east (−180…180).
    public var longitudeDegrees: Double

    public init(latitudeDegrees: Double, longitudeDegrees: Double) {
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
    }
}

/// Great-circle distances on a sphere.
///
/// Epicentral distances are computed with the haversine formula (Sinnott 1984, "Virtues of the
/// Haversine", Sky & Telescope 68(2):159) on a sphere of radius ``meanEarthRadiusKilometers`` =
/// 6371.0 km, the IUGG mean radius R1 = (2a + b)/3 of the WGS-84 ellipsoid (6371.0088 km, rounded).
///
/// Accuracy: against the ellipsoidal (Vincenty/Karney) distance the spherical result differs by at
/// most about 0.5 % (typically 0.1–0.3 % at the latitude of Sichuan), i.e. < 0.5 km over 100 km.
/// That is far below the location uncertainty of an early-warning epicentre (several km) and the
/// σ of the intensity attenuation (≈0.5 intensity units), so the sphere is adequate here.
public enum Geodesy {
    /// Mean Earth radius in kilometres used for all distances (IUGG R1 of WGS-84, rounded).
    public static let meanEarthRadiusKilometers = 6371.0

    /// Great-circle distance between two points in kilometres (haversine formula).
    ///
    /// `hav(θ) = hav(Δφ) + cos φ1 cos φ2 hav(Δλ)`, `d = 2R asin(√hav(θ))`. The argument of `asin`
    /// is clamped to [0, 1] so antipodal rounding cannot produce NaN.
    /// - Complexity: O(1).
    public static func distanceKilometers(from a: GeographicPoint, to b: GeographicPoint) -> Double {
        let radiansPerDegree = Double.pi / 180
        let phi1 = a.latitudeDegrees * radiansPerDegree
        let phi2 = b.latitudeDegrees * radiansPerDegree
        let dPhi = phi2 - phi1
        let dLambda = (b.longitudeDegrees - a.longitudeDegrees) * radiansPerDegree
        let sinHalfDPhi = sin(dPhi / 2)
        let sinHalfDLambda = sin(dLambda / 2)
        let h = sinHalfDPhi * sinHalfDPhi + cos(phi1) * cos(phi2) * sinHalfDLambda * sinHalfDLambda
        let clamped = min(1.0, max(0.0, h))
        return 2 * meanEarthRadiusKilometers * asin(clamped.squareRoot())
    }

    /// Hypocentral distance `sqrt(Δ² + h²)` in kilometres from an epicentral distance and a depth.
    public static func hypocentralDistanceKilometers(epicentralKilometers: Double, depthKilometers: Double) -> Double {
        (epicentralKilometers * epicentralKilometers + depthKilometers * depthKilometers).squareRoot()
    }
}
