// The Atkinson & Silva (2000) two-corner source option of the stochastic model.
import Foundation
import Simulation
import Testing

@Suite("Source spectrum models")
struct SourceModelTests {
    /// Corners of Atkinson & Silva (2000) at M 6, evaluated by hand from
    /// log fa = 2.181 − 0.496 M, log fb = 2.410 − 0.408 M, log ε = 0.605 − 0.255 M.
    @Test("Atkinson & Silva (2000) corners and ε")
    func corners() {
        let c = SourceSpectrumModel.atkinsonSilva2000Corners(momentMagnitude: 6)
        #expect(abs(c.fa / 0.16032453906900418 - 1) < 1e-12)
        #expect(abs(c.fb / 0.9162204901220001 - 1) < 1e-12)
        #expect(abs(c.epsilon / 0.11885022274370183 - 1) < 1e-12)
    }

    @Test("Two-corner shape, P corners × 1.5, duration 1/fa + b R")
    func shapeAndDuration() {
        var params = StochasticModelParameters()
        params.sourceModel = .atkinsonSilva2000
        let source = StochasticPointSource(momentMagnitude: 6, parameters: params)
        let (fa, fb, eps) = (0.16032453906900418, 0.9162204901220001, 0.11885022274370183)
        for f in [0.01, 0.1, 0.5, 2.0, 10.0] {
            let s = (1 - eps) / (1 + pow(f / fa, 2)) + eps / (1 + pow(f / fb, 2))
            let p = (1 - eps) / (1 + pow(f / (1.5 * fa), 2)) + eps / (1 + pow(f / (1.5 * fb), 2))
            #expect(abs(source.sourceShape(.s, frequencyHz: f) / s - 1) < 1e-12)
            #expect(abs(source.sourceShape(.p, frequencyHz: f) / p - 1) < 1e-12)
        }
        #expect(abs(source.durationSeconds(.s, hypocentralDistanceKilometers: 40) - (1 / fa + 2)) < 1e-9)
        #expect(abs(source.durationSeconds(.p, hypocentralDistanceKilometers: 40) - (1 / fa + 2)) < 1e-9)
        #expect(abs(source.lowestCornerFrequencyHz(.p) - 1.5 * fa) < 1e-12)
        // The Brune default is unchanged: shape 1/(1 + (f/f0)²), duration 1/f0.
        let brune = StochasticPointSource(momentMagnitude: 6)
        let f0 = 4.906e6 * 3.5 * pow(100 / pow(10, 25.05), 1.0 / 3.0)
        #expect(abs(brune.sourceShape(.s, frequencyHz: 0.5) - 1 / (1 + pow(0.5 / f0, 2))) < 1e-12)
        #expect(abs(brune.sourceDurationSeconds - 1 / f0) < 1e-12)
    }

    /// The acceleration spectra of the two models differ only by the source shape (same level,
    /// path and site), and the two-corner spectrum is lower in the band that controls the 3-s Pd.
    @Test("Acceleration spectrum ratio equals the shape ratio; intermediate band lower, high frequencies within 15 %")
    func spectrumRatio() {
        var params = StochasticModelParameters()
        params.sourceModel = .atkinsonSilva2000
        for m in [5.0, 6.0, 7.0] {
            let twoCorner = StochasticPointSource(momentMagnitude: m, parameters: params)
            let brune = StochasticPointSource(momentMagnitude: m)
            for f in [0.2, 1.0, 5.0] {
                for wave in SeismicWave.allCases {
                    let ratio = twoCorner.accelerationSpectrum(wave, frequencyHz: f, hypocentralDistanceKilometers: 30)
                        / brune.accelerationSpectrum(wave, frequencyHz: f, hypocentralDistanceKilometers: 30)
                    let shapes = twoCorner.sourceShape(wave, frequencyHz: f) / brune.sourceShape(wave, frequencyHz: f)
                    #expect(abs(ratio / shapes - 1) < 1e-12)
                }
            }
            // High-frequency limit: S(f)·f² → (1 − ε) fa² + ε fb² against the 100-bar f0².
            let c = SourceSpectrumModel.atkinsonSilva2000Corners(momentMagnitude: m)
            let hf = ((1 - c.epsilon) * c.fa * c.fa + c.epsilon * c.fb * c.fb) / pow(brune.sCornerFrequencyHz, 2)
            #expect(hf > 0.85 && hf < 1.15, "M\(m): high-frequency level ratio \(hf)")
        }
        let six = StochasticPointSource(momentMagnitude: 6, parameters: params)
        let sixBrune = StochasticPointSource(momentMagnitude: 6)
        // 0.3–0.5 Hz (P displacement band at M 6): about half of the single-corner spectrum.
        for f in [0.3, 0.5] {
            let r = six.sourceShape(.s, frequencyHz: f) / sixBrune.sourceShape(.s, frequencyHz: f)
            #expect(r > 0.4 && r < 0.65, "ratio at \(f) Hz: \(r)")
        }
    }

    @Test("A two-corner wave train has the 1/fa window and is deterministic")
    func waveTrain() throws {
        var params = StochasticModelParameters()
        params.sourceModel = .atkinsonSilva2000
        let source = StochasticPointSource(momentMagnitude: 6, parameters: params)
        var g1 = ScenarioSimulator.generator(seed: 3, label: "t")
        var g2 = ScenarioSimulator.generator(seed: 3, label: "t")
        let a = try StochasticSynthesis.waveTrain(source: source, wave: .p, hypocentralDistanceKilometers: 40, samplingRateHz: 100,
                                                  firstSampleDelaySeconds: 0, generator: &g1)
        let b = try StochasticSynthesis.waveTrain(source: source, wave: .p, hypocentralDistanceKilometers: 40, samplingRateHz: 100,
                                                  firstSampleDelaySeconds: 0, generator: &g2)
        #expect(a == b)
        // Window 2 · 2 · (1/fa + 0.05 · 40) s plus one padding length max(10, 3/(1.5 fa)) s.
        let fa = 0.16032453906900418
        let expected = Int((4 * (1 / fa + 2) * 100).rounded(.up)) + Int((max(10, 3 / (1.5 * fa)) * 100).rounded(.up))
        #expect(abs(a.samples.count - expected) <= 1)
        #expect(a.samples.allSatisfy { $0.isFinite })
    }
}
