// A local flat projection for the two-station grid search.

public import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A local equirectangular projection about `origin`: x east, y north, km.
/// ```
/// x = R · Δλ · cos φ0,   y = R · Δφ
/// ```
/// Within ±300 km of the origin at Lezhi's latitude (≈ 30° N) distances computed in this plane
/// differ from great-circle distances by ≲ 3 % at the edges and ≪ 1 % within 50 km; the
/// two-station locator uses it only for its grid search and reports the result as a ``GeoPoint``.
public struct LocalProjection: Sendable, Equatable {
    public let origin: GeoPoint
    private let kmPerDegreeLatitude: Double
    private let kmPerDegreeLongitude: Double

    public init(origin: GeoPoint) {
        self.origin = origin
        kmPerDegreeLatitude = Geodesy.earthRadiusKilometers * .pi / 180
        kmPerDegreeLongitude = kmPerDegreeLatitude * cos(origin.latitudeDegrees * .pi / 180)
    }

    /// (east, north) in km of a point.
    public func project(_ p: GeoPoint) -> (eastKilometers: Double, northKilometers: Double) {
        var dLon = p.longitudeDegrees - origin.longitudeDegrees
        if dLon > 180 { dLon -= 360 }
        if dLon < -180 { dLon += 360 }
        return (dLon * kmPerDegreeLongitude, (p.latitudeDegrees - origin.latitudeDegrees) * kmPerDegreeLatitude)
    }

    /// The point at (east, north) km.
    public func unproject(eastKilometers x: Double, northKilometers y: Double) -> GeoPoint {
        GeoPoint(latitudeDegrees: origin.latitudeDegrees + y / kmPerDegreeLatitude,
                 longitudeDegrees: origin.longitudeDegrees + x / kmPerDegreeLongitude)
    }
}
