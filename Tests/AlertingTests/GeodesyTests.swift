import SeismicCore
import Alerting
import Testing

@Suite("Geodesy (haversine on R = 6371.0 km)")
struct GeodesyTests {
    /// Rosetta Code "Haversine formula": BNA (36.12, −86.67) → LAX (33.94, −118.40) is
    /// 2887.2599506071106 km on R = 6372.8 km; distance scales with R, so on 6371.0 km it is
    /// 2887.2599506071106 × 6371.0 / 6372.8 = 2886.44444283798 km.
    @Test func nashvilleToLosAngeles() {
        let d = Geodesy.distanceKilometers(from: GeoPoint(latitudeDegrees: 36.12, longitudeDegrees: -86.67),
                                           to: GeoPoint(latitudeDegrees: 33.94, longitudeDegrees: -118.40))
        #expect(abs(d - 2887.2599506071106 * 6371.0 / 6372.8) < 1e-6)
    }

    /// One degree along a meridian or the equator is 2π·6371/360 = 111.194926644559 km; a quarter
    /// meridian (equator to pole) is 10007.5433980103 km.
    @Test func meridianAndEquatorArcs() {
        let oneDegree = 2 * Double.pi * 6371.0 / 360
        let a = GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105)
        let north = GeoPoint(latitudeDegrees: 31, longitudeDegrees: 105)
        #expect(abs(Geodesy.distanceKilometers(from: a, to: north) - oneDegree) < 1e-9)
        let e0 = GeoPoint(latitudeDegrees: 0, longitudeDegrees: 179.5)
        let e1 = GeoPoint(latitudeDegrees: 0, longitudeDegrees: -179.5)  // across the antimeridian
        #expect(abs(Geodesy.distanceKilometers(from: e0, to: e1) - oneDegree) < 1e-9)
        let pole = GeoPoint(latitudeDegrees: 90, longitudeDegrees: 0)
        let equator = GeoPoint(latitudeDegrees: 0, longitudeDegrees: 42)
        #expect(abs(Geodesy.distanceKilometers(from: equator, to: pole) - 90 * oneDegree) < 1e-6)
        #expect(Geodesy.distanceKilometers(from: a, to: a) == 0)
    }

    /// Antipodes: half the circumference (π·6371 km) without NaN.
    @Test func antipodes() {
        let d = Geodesy.distanceKilometers(from: GeoPoint(latitudeDegrees: 30.28, longitudeDegrees: 105.03),
                                           to: GeoPoint(latitudeDegrees: -30.28, longitudeDegrees: -74.97))
        #expect(abs(d - Double.pi * 6371.0) < 1e-6)
    }

    /// design.md: Lezhi lies ≈178 km from the 2008 Wenchuan epicentre (31.0° N, 103.4° E). With the
    /// county seat at 30.28° N 105.03° E the great circle is 175.3 km (checked with a separate
    /// Python haversine), consistent with the design's rounded figure.
    @Test func lezhiToWenchuan() {
        let d = Geodesy.distanceKilometers(from: GeoPoint(latitudeDegrees: 30.28, longitudeDegrees: 105.03),
                                           to: GeoPoint(latitudeDegrees: 31.0, longitudeDegrees: 103.4))
        #expect(abs(d - 175.2907) < 0.001)
    }

    @Test func hypocentralDistance() {
        #expect(Geodesy.hypocentralDistanceKilometers(epicentralKilometers: 30, depthKilometers: 40) == 50)
    }
}
