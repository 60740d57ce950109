#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Great-circle geometry on a spherical Earth of radius 6371.0 km (the mean radius). Adequate
/// for the tens to hundreds of kilometres of a regional scenario (the ellipsoid changes
/// distances by ≲ 0.5 %).
public enum Geodesy {
    /// Mean Earth radius in km.
    public static let earthRadiusKilometers = 6371.0

    /// Great-circle distance in km between two points (haversine formula, stable for short
    /// distances). Latitudes/longitudes in degrees.
    public static func distanceKilometers(latitude1: Double, longitude1: Double,
                                          latitude2: Double, longitude2: Double) -> Double {
        let phi1 = latitude1 * .pi / 180
        let phi2 = latitude2 * .pi / 180
        let dPhi = phi2 - phi1
        let dLambda = (longitude2 - longitude1) * .pi / 180
        let h = sin(dPhi / 2) * sin(dPhi / 2) + cos(phi1) * cos(phi2) * sin(dLambda / 2) * sin(dLambda / 2)
        return 2 * earthRadiusKilometers * asin(min(1, h.squareRoot()))
    }

    /// Initial azimuth (degrees clockwise from north, in [0, 360)) of the great circle from
    /// point 1 towards point 2. 0 when the points coincide.
    public static func azimuthDegrees(latitude1: Double, longitude1: Double,
                                      latitude2: Double, longitude2: Double) -> Double {
        let phi1 = latitude1 * .pi / 180
        let phi2 = latitude2 * .pi / 180
        let dLambda = (longitude2 - longitude1) * .pi / 180
        let y = sin(dLambda) * cos(phi2)
        let x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(dLambda)
        if x == 0, y == 0 { return 0 }
        var degrees = atan2(y, x) * 180 / .pi
        if degrees < 0 { degrees += 360 }
        if degrees >= 360 { degrees -= 360 }
        return degrees
    }
}
