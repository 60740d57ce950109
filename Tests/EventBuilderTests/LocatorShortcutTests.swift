// The locator's speed shortcuts (tabulated coarse travel times with a product screen, the
// skipped spread pass) against the plain grid search: identical solutions, bit for bit.
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

@Suite("Locator shortcuts")
struct LocatorShortcutTests {
    /// Seeded events around a random 2–4 station network, with and without back-azimuths and
    /// distances, noisy picks (σ 50 ms), and the bench's Lezhi pair (Nanta, Gaosi).
    static func cases(count: Int, seed: UInt64) -> [[StationArrival]] {
        var rng = SplitMix64(seed: seed)
        let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
        let centre = GeoPoint(latitudeDegrees: 30.25, longitudeDegrees: 105.06)
        let lezhi = [GeoPoint(latitudeDegrees: 30.30, longitudeDegrees: 105.02),
                     GeoPoint(latitudeDegrees: 30.20, longitudeDegrees: 105.10)]
        return (0..<count).map { trial in
            let stations = trial % 2 == 0 ? lezhi : (0..<(2 + trial % 3)).map { _ in
                Geodesy.destination(from: centre, bearingDegrees: 360 * rng.nextUniform(),
                                    distanceKilometers: 3 + 40 * rng.nextUniform())
            }
            let epicenter = Geodesy.destination(from: centre, bearingDegrees: 360 * rng.nextUniform(),
                                                distanceKilometers: 2 + 200 * rng.nextUniform())
            return stations.enumerated().map { k, s -> StationArrival in
                let delta = Geodesy.distanceKilometers(from: s, to: epicenter)
                let t = (delta * delta + 100).squareRoot() / 6 + 0.05 * rng.nextStandardNormal()
                let baz = BackAzimuthEstimate(
                    backAzimuthDegrees: Geodesy.normalizedBearing(Geodesy.bearingDegrees(from: s, to: epicenter)
                        + 4 * rng.nextStandardNormal()),
                    sigmaDegrees: 5, statisticalSigmaDegrees: 3, rectilinearity: 0.9, apparentIncidenceDegrees: 30,
                    eigenvalues: [1, 0.05, 0.05], effectiveSampleCount: 18, windowStart: origin, windowSeconds: 1)
                let dist = EpicentralDistanceEstimate(kilometers: delta * pow(10, 0.15 * rng.nextStandardNormal()),
                                                      log10Sigma: 0.2, method: .given)
                return StationArrival(station: "S\(k)", location: s,
                                      pickTime: origin.adding(nanoseconds: Int64((t * 1e9).rounded())),
                                      backAzimuth: (trial / 2 + k) % 3 != 2 ? baz : nil,
                                      distance: (trial / 2 + k) % 2 == 0 ? dist : nil)
            }
        }
    }

    @Test("tabulated coarse grid, skipped spread and reused nodes give the plain search's solution exactly (120 geometries)")
    func shortcutsAreExact() throws {
        let locator = EventLocator()
        let plain = EventLocator.SearchShortcuts(travelTimeTables: false, skipUndecisiveSpread: false,
                                                 reuseRecentredNodes: false)
        var skippedSpread = 0
        for (trial, arrivals) in Self.cases(count: 120, seed: 2026).enumerated() {
            let fast = try #require(locator.locate(arrivals))
            let reference = try #require(locator.locate(arrivals, shortcuts: plain))
            #expect(fast == reference, "trial \(trial): \(fast) vs \(reference)")
            // Same bits, not only ==.
            #expect(fast.epicenter.latitudeDegrees.bitPattern == reference.epicenter.latitudeDegrees.bitPattern
                        && fast.epicenter.longitudeDegrees.bitPattern == reference.epicenter.longitudeDegrees.bitPattern
                        && fast.horizontalSigmaKilometers.bitPattern == reference.horizontalSigmaKilometers.bitPattern,
                    "trial \(trial)")
            if fast.horizontalSigmaKilometers >= 7 { skippedSpread += 1 }
        }
        // Both branches of the spread shortcut were exercised.
        #expect(skippedSpread > 10 && skippedSpread < 110, "\(skippedSpread) solutions with σ_h ≥ 7 km")
    }

    @Test("the tables only speed up: a prepared station set locates exactly as an unprepared one")
    func preparedTablesChangeNothing() throws {
        // A station pair no other test uses, so the process-wide cache starts without it.
        let a = GeoPoint(latitudeDegrees: 31.123, longitudeDegrees: 104.456)
        let b = GeoPoint(latitudeDegrees: 31.2, longitudeDegrees: 104.5)
        let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
        let epicenter = Geodesy.destination(from: a, bearingDegrees: 200, distanceKilometers: 60)
        let arrivals = [a, b].enumerated().map { k, s in
            let d = Geodesy.distanceKilometers(from: s, to: epicenter)
            return StationArrival(station: "P\(k)", location: s,
                                  pickTime: origin.adding(nanoseconds: Int64(((d * d + 100).squareRoot() / 6 * 1e9).rounded())),
                                  backAzimuth: BackAzimuthEstimate(
                                      backAzimuthDegrees: Geodesy.bearingDegrees(from: s, to: epicenter) + 2,
                                      sigmaDegrees: 5, statisticalSigmaDegrees: 3, rectilinearity: 0.9,
                                      apparentIncidenceDegrees: 30, eigenvalues: [1, 0.05, 0.05],
                                      effectiveSampleCount: 18, windowStart: origin, windowSeconds: 1))
        }
        let locator = EventLocator()
        let plain = try #require(locator.locate(arrivals, shortcuts: .init(travelTimeTables: false)))
        let first = try #require(locator.locate(arrivals))  // builds the tables
        locator.prepare(stationSets: [[a, b], [b, a]])  // already there: no-op
        let second = try #require(locator.locate(arrivals))  // reads them
        #expect(first == plain && second == plain)
        let misfit = Geodesy.distanceKilometers(from: plain.epicenter, to: epicenter)
        #expect(misfit < 10, "\(misfit) km from the true epicentre")
    }
}
