import EventBuilder
import Magnitude
import Pipeline
import SeismicCore
import Testing

/// Issue 5's "epicentre error ≤ 30 km from one station", tested as an operator meets it: one of the
/// two stations is down and the other replays alone. The single-station solution then evolves from
/// the P-wave estimate (back-azimuth from P polarisation, range from τc/Pd: a factor ≈ 2 at 1.5 s)
/// to the settled one (back-azimuth + S−P distance, σ ≈ 5 %). In a two-station replay the onsite
/// phase lasts only until the second station's P (≈ 1–2 s: the stations are 14 km apart), so the
/// settled single-station location is seen only here. docs/onsite-distance.md §6.2.
@Suite("One station alone (the other down)", .serialized)
struct OneStationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var set: String
        var station: String
        var latitude: Double
        var longitude: Double
        var magnitude: Double
        var testDescription: String { "\(set) \(station)" }
    }

    static let committed: [Case] = [
        ("nearby-m4.5", 30.10, 105.19, 4.5), ("longquan-m5.8", 30.42, 104.30, 5.8), ("longmenshan-m7.5", 31.00, 103.38, 7.5),
    ].flatMap { set, lat, lon, m in
        ["SC.NANTA", "SC.GAOSI"].map { Case(set: set, station: $0, latitude: lat, longitude: lon, magnitude: m) }
    }

    /// Every message of a one-station replay is an onsite solution of that station (never the
    /// station itself: an alerted event keeps its last single-station distance); returns the last.
    static func checkOnsiteOnly(_ o: ReplayOutputs, station: String, label: String) throws -> EventUpdate {
        #expect(Set(o.eventUpdates.map(\.id)).count == 1, "\(label): events \(Set(o.eventUpdates.map(\.id)))")
        #expect(o.eventUpdates.first?.messageType == .alert, "\(label)")
        #expect(o.eventUpdates.allSatisfy { $0.messageType != .cancel && $0.locationKind == .onsite && $0.stations == [station] },
                "\(label): \(o.eventUpdates.map { "\($0.messageType) \($0.locationKind) \($0.stations)" })")
        return try #require(o.eventUpdates.last, "\(label)")
    }

    @Test("committed sets, each station alone: one onsite event, settled by its S−P distance within 30 km; M ± 0.5 except Gaosi on Longquan", arguments: committed)
    func committedSet(_ c: Case) throws {
        let (o, _) = try Scenario.run(try Scenario.segments(c.set, stations: [c.station + ".00"]), chunkSeconds: 1)
        let settled = try Self.checkOnsiteOnly(o, station: c.station, label: c.testDescription)
        #expect(settled.reason.contains("S−P"), "\(c.testDescription): last message '\(settled.reason)'")
        // Measured on these sets: nearby 1.4 / 0.8 km, Longquan 2.4 / 2.3 km, Longmenshan 14.7 / 9.6 km
        // (Nanta / Gaosi); the first onsite messages (P only) are 17–38 km (nearby, Longquan) and
        // 29–109 km (Longmenshan) off.
        let error = ReplayPipelineTests.distanceKm(settled.epicenter.latitudeDegrees, settled.epicenter.longitudeDegrees,
                                                   c.latitude, c.longitude)
        #expect(error <= 30, "\(c.testDescription): settled \(error) km")
        let m = try #require(settled.magnitude?.magnitude)
        if c.set == "longquan-m5.8" && c.station == "SC.GAOSI" {
            // Gaosi's 3-s P on this set: Pd 0.90 mm at 81 km, 6.5× Wu & Zhao's for M 5.8, τc 1.6 s;
            // every P relation reads M 6.2–7.1 (the Brune Pd excess, docs/validation.md). Nanta alone
            // reads +0.21; both stations together +0.59 (ReplayPipelineTests).
            withKnownIssue("Gaosi's simulated P on the Longquan set reads M ≈ +1 (Brune point-source Pd excess)") {
                #expect(abs(m - c.magnitude) <= 0.5, "M \(m)")
            }
        } else {
            #expect(abs(m - c.magnitude) <= 0.5, "\(c.testDescription): M \(m)")
        }
    }

    @Test("20 realizations per scenario, each station alone: the settled single-station epicentre is within 30 km at 25 and 75 km; misses at 180 km and magnitudes are known issues",
          arguments: ["SC.NANTA", "SC.GAOSI"])
    func ensemble(_ station: String) throws {
        var misses: [String] = []
        for spec in [ScenarioEnsemble.nearby, ScenarioEnsemble.longquan, ScenarioEnsemble.longmenshan] {
            for run in try ScenarioEnsemble.runs(spec, only: station) {
                let label = "M\(spec.magnitude) seed \(run.seed)"
                let settled = try Self.checkOnsiteOnly(run.outputs, station: station, label: label)
                let error = ScenarioEnsemble.error(settled, spec)
                if spec.magnitude < 7 {
                    #expect(settled.reason.contains("S−P"), "\(label): last message '\(settled.reason)'")
                    #expect(error <= 30, "\(label): settled \(error) km")
                } else {
                    if !settled.reason.contains("S−P") { misses.append("\(label) no S onset") }
                    if error > 30 { misses.append("\(label) settled \(Int(error)) km") }
                }
                if let alert = run.outputs.eventUpdates.first, spec.magnitude >= 7, alert.reason.contains("S−P") {
                    misses.append("\(label) first Alert only at S")
                }
                let m = settled.magnitude?.magnitude ?? .nan
                if !(abs(m - spec.magnitude) <= 0.5) { misses.append("\(label) M \((m * 100).rounded() / 100)") }
            }
        }
        // Measured with this code: settled by S−P within 30 km in 20/20 realizations at 25 and 75 km
        // for each station. At 180 km the S onset is missed in one realization per station (Nanta
        // seed 23: settled at 23 km without it; Gaosi seed 22: 65 km). Nanta alone on the M7.5: in one
        // realization (seed 31) no Alert before S: the 3-s τc/Pd range is clamped at 300 km, its σ
        // (> 150 km) is over the Alert limit, and the Alert waits for S−P.
        // M ± 0.5: nearby 18/20 (Nanta) 20/20 (Gaosi); Longquan 18/20, 13/20; Longmenshan 13/20, 19/20.
        withKnownIssue("one station alone: M7.5 range and magnitudes (Brune Pd excess at M 5.8, saturation at M 7.5)") {
            #expect(misses.isEmpty, "\(misses.count) misses: \(misses.joined(separator: "; "))")
        }
    }
}
