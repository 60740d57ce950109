// Injected glitches (for the noise-and-glitch scenario sets) and the P free-surface coefficients.
import Foundation
import SeismicCore
import Simulation
import Testing

@Suite("Glitch injection and P free surface")
struct GlitchAndFreeSurfaceTests {
    @Test("free-surface P coefficients: 2 on the vertical at normal incidence; hand values at 30°; Poisson solid")
    func freeSurface() {
        let a = 3.5 * 3.0.squareRoot(), b = 3.5
        let normal = ScenarioSimulator.pFreeSurfaceFactors(incidenceRadians: 0, pVelocity: a, sVelocity: b)
        #expect(abs(normal.0 - 1) < 1e-12 && abs(normal.1) < 1e-12)
        // Hand calculation (Aki & Richards §5.2.4 formulas, α = 6.062, β = 3.5, i = 30°):
        // p = 0.08248, η_α = 0.14287, η_β = 0.27353, 1/β² − 2p² = 0.068027, D = 0.0056906
        // u_z = 1.6897, u_r = 1.1210 (the spectrum carries F = 2, so the factors are halves).
        let oblique = ScenarioSimulator.pFreeSurfaceFactors(incidenceRadians: 30 * .pi / 180, pVelocity: a, sVelocity: b)
        #expect(abs(oblique.0 - 0.8449) < 2e-3, "\(oblique)")
        #expect(abs(oblique.1 - 0.5605) < 2e-3, "\(oblique)")
    }

    @Test("glitches: the scheduled number, at the recorded samples and offsets, none in the quiet start; reproducible")
    func injected() throws {
        var config = ScenarioConfiguration()
        config.preEventSeconds = 30
        config.durationAfterOriginSeconds = 900
        var schedule = GlitchSchedule(ratePerHour: 40)
        schedule.quietStartSeconds = 60
        config.glitches = schedule
        // Mw 2 600 km away: the records are noise (P arrives ≈ 100 s after origin, 30 s pre-event).
        let eq = ScenarioEarthquake(momentMagnitude: 2, latitudeDegrees: 35.4, longitudeDegrees: 105,
                                    depthKilometers: 10, originTime: origin)
        let sim = try ScenarioSimulator(earthquake: eq, configuration: config, seed: 9)
        let sta = station("GLT", north: 0, east: 0)
        let a = try sim.simulate(sta)
        let b = try sim.simulate(sta)
        #expect(a.glitches == b.glitches)
        #expect(a.countBlocks == b.countBlocks)
        let hours = Double(a.countBlocks[0].samples.count) / 100 / 3600
        #expect(a.glitches.count == Int((40 * hours).rounded()))
        #expect(Set(a.glitches.map(\.kind)) == Set(InjectedGlitch.Kind.allCases))
        config.glitches = nil
        let clean = try ScenarioSimulator(earthquake: eq, configuration: config, seed: 9).simulate(sta)
        for g in a.glitches {
            #expect(g.firstSample >= 6000)
            let k = try #require(ScenarioStation.channelCodes.firstIndex(of: g.channel))
            let dirty = a.countBlocks[k].samples, ref = clean.countBlocks[k].samples
            let overlaps = a.glitches.contains { $0 != g && $0.channel == g.channel
                && $0.firstSample < g.firstSample + g.sampleCount && g.firstSample < $0.firstSample + $0.sampleCount }
            guard !overlaps else { continue }
            for i in g.firstSample..<min(dirty.count, g.firstSample + g.sampleCount) {
                switch g.kind {
                case .dropout: #expect(dirty[i] == 0)
                case .spike, .step: #expect(dirty[i] - ref[i] == g.offsetCounts)
                }
            }
            #expect(g.time == a.countBlocks[k].time(ofSample: g.firstSample))
        }
    }

    @Test("an invalid glitch rate names the field")
    func invalidRate() {
        var config = ScenarioConfiguration()
        config.glitches = GlitchSchedule(ratePerHour: -1)
        #expect(throws: SimulationError.self) { try config.validate() }
        do { try config.validate() } catch { #expect(error.field == "glitch rate") }
    }
}
