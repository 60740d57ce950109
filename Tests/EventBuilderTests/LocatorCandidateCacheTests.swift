// The per-event coarse-candidate cache of the locator (LocatorCoarseCandidates) against
// from-scratch solves: over a sequence of updates of one event (same picks, changing
// back-azimuths and distances, then a moved pick), every cached solution has the same bits as
// a fresh `locate` and as the plain search without any shortcut.
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

@Suite("Locator candidate cache")
struct LocatorCandidateCacheTests {
    static func sameBits(_ a: LocationSolution, _ b: LocationSolution) -> Bool {
        a == b && a.epicenter.latitudeDegrees.bitPattern == b.epicenter.latitudeDegrees.bitPattern
            && a.epicenter.longitudeDegrees.bitPattern == b.epicenter.longitudeDegrees.bitPattern
            && a.horizontalSigmaKilometers.bitPattern == b.horizontalSigmaKilometers.bitPattern
            && a.misfit.bitPattern == b.misfit.bitPattern
            && a.originTimeSigmaSeconds.bitPattern == b.originTimeSigmaSeconds.bitPattern
    }

    /// The updates of one event: the arrivals as an association would see them (the last station
    /// without back-azimuth and distance), then the full arrivals, then back-azimuths moved by
    /// small and large seeded amounts and distances rescaled, then one pick moved by 0.2 s (a new
    /// pick set), then a back-azimuth change on it.
    static func updates(of arrivals: [StationArrival], rng: inout SplitMix64) -> [[StationArrival]] {
        var sequence: [[StationArrival]] = []
        var first = arrivals
        first[first.count - 1].backAzimuth = nil
        first[first.count - 1].distance = nil
        sequence.append(first)
        sequence.append(arrivals)
        for spread in [2.0, 2.0, 30.0, 0.5] {
            sequence.append(arrivals.map { a in
                var a = a
                if var b = a.backAzimuth {
                    b.backAzimuthDegrees = Geodesy.normalizedBearing(b.backAzimuthDegrees + spread * rng.nextStandardNormal())
                    a.backAzimuth = b
                }
                if var d = a.distance {
                    d.kilometers *= pow(10, 0.05 * rng.nextStandardNormal())
                    a.distance = d
                }
                return a
            })
        }
        var moved = arrivals
        moved[0].pickTime = moved[0].pickTime.adding(nanoseconds: 200_000_000)
        sequence.append(moved)
        if var b = moved[0].backAzimuth {
            b.backAzimuthDegrees = Geodesy.normalizedBearing(b.backAzimuthDegrees + 3)
            moved[0].backAzimuth = b
        }
        sequence.append(moved)
        return sequence
    }

    @Test("cached coarse candidates give the from-scratch and the plain solutions bit for bit (120 events × 8 updates)")
    func cachedUpdatesAreExact() throws {
        let locator = EventLocator()
        let plain = EventLocator.SearchShortcuts(travelTimeTables: false, skipUndecisiveSpread: false,
                                                 reuseRecentredNodes: false)
        var rng = SplitMix64(seed: 4242)
        var reuses = 0, updates = 0, nodes = 0
        for (trial, arrivals) in LocatorShortcutTests.cases(count: 120, seed: 99).enumerated() {
            var candidates = LocatorCoarseCandidates()
            for (u, update) in Self.updates(of: arrivals, rng: &rng).enumerated() {
                let cached = try #require(locator.locate(update, coarseCandidates: &candidates))
                let fresh = try #require(locator.locate(update))
                #expect(Self.sameBits(cached, fresh), "trial \(trial) update \(u): \(cached) vs \(fresh)")
                if u % 3 == 1 {  // the plain search is slow in a debug build: every third update
                    let reference = try #require(locator.locate(update, shortcuts: plain))
                    #expect(Self.sameBits(cached, reference), "trial \(trial) update \(u): \(cached) vs \(reference)")
                }
                nodes += candidates.nodes.count
                updates += 1
            }
            reuses += candidates.reuses
        }
        // The cached path ran for most updates, and not for all (new picks, larger bounds, no
        // back-azimuth anywhere rescan).
        #expect(reuses > updates / 3 && reuses < updates, "\(reuses) of \(updates) updates reused the candidates")
        // Far fewer nodes than the 3 721 of the grid on average.
        #expect(nodes < updates * 1000, "\(nodes / updates) candidates per update")
    }

    @Test("a candidate set recorded for other picks or a smaller bound is not used")
    func staleCandidatesAreNotUsed() throws {
        let locator = EventLocator()
        let cases = LocatorShortcutTests.cases(count: 4, seed: 7)
        var candidates = LocatorCoarseCandidates()
        // Record for one event, then locate another with the same (stale) value.
        _ = try #require(locator.locate(cases[0], coarseCandidates: &candidates))
        let before = candidates.reuses
        let other = try #require(locator.locate(cases[2], coarseCandidates: &candidates))
        #expect(candidates.reuses == before)
        #expect(Self.sameBits(other, try #require(locator.locate(cases[2]))))
        // Same picks again: reused.
        _ = try #require(locator.locate(cases[2], coarseCandidates: &candidates))
        #expect(candidates.reuses == before + 1)
    }
}
