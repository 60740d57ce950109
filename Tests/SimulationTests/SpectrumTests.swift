// The synthetic spectra follow the Boore (2003) model: Brune corner frequency and κ decay.
import Foundation
import SeismicCore
import SignalProcessing
import Simulation
import Testing

/// Independent twin of the model for the tests (written from the formulas, not calling the
/// library): S-wave acceleration FAS in m/s without site amplification.
private struct ModelTwin {
    var magnitude: Double
    var distance: Double  // km, ≤ 70
    var stress = 100.0, beta = 3.5, rho = 2.8, kappa = 0.04, q0 = 180.0, eta = 0.5

    var momentDyneCm: Double { pow(10, 1.5 * magnitude + 16.05) }
    var cornerHz: Double { 4.906e6 * beta * pow(stress / momentDyneCm, 1.0 / 3.0) }
    /// Displacement spectral level at 1 km in m·s: 0.55 · (1/√2) · 2 / (4π ρ β³) · M0 · 1e-20 cm·s · 0.01 m/cm.
    var levelMeterSeconds: Double { 0.55 * (1 / 2.0.squareRoot()) * 2 / (4 * .pi * rho * pow(beta, 3)) * momentDyneCm * 1e-22 }
    /// Path and site factors (1/R, anelastic, κ) at f.
    func pathSite(_ f: Double) -> Double {
        (1 / distance) * exp(-.pi * f * distance / (q0 * pow(f, eta) * beta)) * exp(-.pi * kappa * f)
    }
    func acceleration(_ f: Double) -> Double {
        levelMeterSeconds / (1 + pow(f / cornerHz, 2)) * pathSite(f) * pow(2 * .pi * f, 2)
    }
}

@Suite("Stochastic spectra")
struct SpectrumTests {
    /// Mean squared Fourier amplitude (Δt·|DFT|)² of `trains` S trains, in bands of 1/6 decade.
    static func bandSpectrum(magnitude: Double, distance: Double, trains: Int)
        throws -> [(frequency: Double, fas: Double)]
    {
        var parameters = StochasticModelParameters()
        parameters.siteAmplification = .none
        let source = StochasticPointSource(momentMagnitude: magnitude, parameters: parameters)
        let fs = 100.0
        let n = 16384
        let fft = try RealFFT(count: n)
        var power = [Double](repeating: 0, count: fft.spectrumCount)
        for seed in 0..<trains {
            var generator = SplitMix64(seed: UInt64(1000 + seed))
            let train = try StochasticSynthesis.waveTrain(source: source, wave: .s, hypocentralDistanceKilometers: distance,
                                                          samplingRateHz: fs, firstSampleDelaySeconds: 0, generator: &generator)
            #expect(train.samples.count <= n)
            var x = [Double](repeating: 0, count: n)
            for (i, v) in train.samples.prefix(n).enumerated() { x[i] = v }
            let spectrum = try fft.forward(x)
            for k in spectrum.indices { power[k] += spectrum[k].squaredMagnitude / (fs * fs) / Double(trains) }
        }
        var bands: [(Double, Double)] = []
        var lower = 0.1
        while lower < 45 {
            let upper = lower * pow(10, 1.0 / 6.0)
            var sum = 0.0, count = 0
            for k in power.indices {
                let f = Double(k) * fs / Double(n)
                if f >= lower && f < upper { sum += power[k]; count += 1 }
            }
            if count > 0 { bands.append(((lower * upper).squareRoot(), (sum / Double(count)).squareRoot())) }
            lower = upper
        }
        return bands
    }

    @Test("the mean FAS of many S trains follows the model within 15 % in every 1/6-decade band, 0.15-35 Hz")
    func amplitudeSpectrumMatchesModel() throws {
        let twin = ModelTwin(magnitude: 5, distance: 20)
        let bands = try Self.bandSpectrum(magnitude: 5, distance: 20, trains: 200)
        var checked = 0
        for band in bands where band.frequency >= 0.15 && band.frequency <= 35 {
            let ratio = band.fas / twin.acceleration(band.frequency)
            #expect(ratio > 0.85 && ratio < 1.15, "f \(band.frequency) Hz: synthetic/model = \(ratio)")
            checked += 1
        }
        #expect(checked >= 14)
    }

    @Test("Brune corner frequency and level fitted from the path-corrected spectrum are within 10 % of the model")
    func cornerFrequency() throws {
        for magnitude in [4.5, 5.5] {
            let twin = ModelTwin(magnitude: magnitude, distance: 20)
            let bands = try Self.bandSpectrum(magnitude: magnitude, distance: 20, trains: 200)
            let source = bands.filter { $0.frequency >= 0.15 && $0.frequency <= 30 }
                .map { (f: $0.frequency, d: $0.fas / (twin.pathSite($0.frequency) * pow(2 * .pi * $0.frequency, 2))) }
            // Least squares in log amplitude over (Ω0, fc): for each fc, the best log Ω0 is the mean residual.
            var best = (fc: 0.0, misfit: Double.infinity, level: 0.0)
            var fc = 0.05
            while fc < 20 {
                let residuals = source.map { log($0.d) + log(1 + pow($0.f / fc, 2)) }
                let mean = residuals.reduce(0, +) / Double(residuals.count)
                let misfit = residuals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                if misfit < best.misfit { best = (fc, misfit, exp(mean)) }
                fc *= 1.005
            }
            #expect(abs(best.fc / twin.cornerHz - 1) < 0.10, "M\(magnitude): fitted f0 \(best.fc) Hz, model \(twin.cornerHz) Hz")
            #expect(abs(best.level / twin.levelMeterSeconds - 1) < 0.10,
                    "M\(magnitude): fitted Ω0 \(best.level) m·s, model \(twin.levelMeterSeconds) m·s")
        }
    }

    @Test("high-frequency decay: κ fitted from 8-35 Hz is 0.04 s within 0.004 s")
    func kappaDecay() throws {
        let twin = ModelTwin(magnitude: 5, distance: 20)
        let bands = try Self.bandSpectrum(magnitude: 5, distance: 20, trains: 200).filter { $0.frequency >= 8 && $0.frequency <= 35 }
        // ln[FAS / (source · 1/R · Q · (2πf)²)] = ln C − π κ f.
        let points = bands.map { band -> (Double, Double) in
            let f = band.frequency
            let withoutKappa = twin.acceleration(f) / exp(-.pi * twin.kappa * f)
            return (f, log(band.fas / withoutKappa))
        }
        let n = Double(points.count)
        let mf = points.map(\.0).reduce(0, +) / n
        let my = points.map(\.1).reduce(0, +) / n
        let slope = points.reduce(0) { $0 + ($1.0 - mf) * ($1.1 - my) } / points.reduce(0) { $0 + ($1.0 - mf) * ($1.0 - mf) }
        let kappa = -slope / .pi
        #expect(abs(kappa - 0.04) < 0.004, "fitted κ \(kappa) s")
    }

    @Test("minimum-phase shaping keeps the amplitude spectrum and is causal")
    func minimumPhase() throws {
        let n = 8192
        let fft = try RealFFT(count: n)
        let source = StochasticPointSource(momentMagnitude: 5)
        let amplitudes = (0..<fft.spectrumCount).map {
            source.accelerationSpectrum(.s, frequencyHz: Double($0) * 100 / Double(n), hypocentralDistanceKilometers: 20)
        }
        let h = try StochasticSynthesis.minimumPhase(amplitudes: amplitudes, fft: fft)
        let peak = amplitudes.max() ?? 0
        for k in 1..<fft.spectrumCount where amplitudes[k] > 1e-6 * peak {
            #expect(abs(h[k].magnitude / amplitudes[k] - 1) < 1e-9, "bin \(k)")
        }
        // Impulse response: (almost) all energy at non-negative times (the first half of the
        // circular buffer), and it starts at once (half the energy within 0.5 s).
        let impulse = try fft.inverse(h, scaling: .byInverseCount)
        let total = impulse.reduce(0) { $0 + $1 * $1 }
        let negative = impulse[(n / 2)...].reduce(0) { $0 + $1 * $1 }
        let early = impulse[..<50].reduce(0) { $0 + $1 * $1 }
        #expect(negative < 1e-3 * total, "energy at negative times: \(negative / total)")
        #expect(early > 0.5 * total, "energy in the first 0.5 s: \(early / total)")
        // The zero-phase filter of Boore 2003 puts half of its energy at negative times.
        let zeroPhase = try fft.inverse(amplitudes.map { Complex(real: $0, imaginary: 0) }, scaling: .byInverseCount)
        let zpTotal = zeroPhase.reduce(0) { $0 + $1 * $1 }
        let zpNegative = zeroPhase[(n / 2)...].reduce(0) { $0 + $1 * $1 }
        #expect(zpNegative > 0.1 * zpTotal)
    }

    @Test("generic-rock amplification: 1 at low frequency, √(ρβ/ρ̄V̄) of the top layer at high frequency, increasing")
    func siteAmplification() {
        let site = SiteAmplification.genericRock760
        // Above 1/(4 · 0.001 km / 0.314 km/s) ≈ 78.5 Hz the quarter wavelength lies in the top layer.
        let top = site.amplification(frequencyHz: 100, sourceDensity: 2.8, sourceVelocity: 3.5)
        #expect(abs(top - (2.8 * 3.5 / (1.934 * 0.314)).squareRoot()) < 1e-9)
        let low = site.amplification(frequencyHz: 0.01, sourceDensity: 2.8, sourceVelocity: 3.5)
        #expect(low > 0.95 && low < 1.1, "A(0.01 Hz) = \(low)")
        var previous = 0.0
        for f in stride(from: 0.05, through: 50, by: 0.05) {
            let a = site.amplification(frequencyHz: f, sourceDensity: 2.8, sourceVelocity: 3.5)
            #expect(a >= previous - 1e-12, "A not increasing at \(f) Hz")
            previous = a
        }
        // At 1 Hz the quarter-wavelength depth is where the travel time is 0.25 s, in the km-deep
        // gradient; Boore (2016) / Boore & Joyner (1997) tabulate ≈ 1.6-1.7 around 1 Hz.
        let one = site.amplification(frequencyHz: 1, sourceDensity: 2.8, sourceVelocity: 3.5)
        #expect(one > 1.4 && one < 1.9, "A(1 Hz) = \(one)")
        #expect(SiteAmplification.none.amplification(frequencyHz: 10, sourceDensity: 2.8, sourceVelocity: 3.5) == 1)
    }

    @Test("P and S corner frequencies, moments, durations")
    func sourceQuantities() {
        let source = StochasticPointSource(momentMagnitude: 6)
        #expect(abs(source.seismicMomentNewtonMeters / 1.122e18 - 1) < 1e-3)  // 10^(9+9.05)
        #expect(abs(source.seismicMomentDyneCentimeters / source.seismicMomentNewtonMeters - 1e7) < 1e-3)
        let f0 = 4.906e6 * 3.5 * pow(100 / pow(10, 25.05), 1.0 / 3.0)
        #expect(abs(source.sCornerFrequencyHz / f0 - 1) < 1e-12)
        // Madariaga (1976): f0_P / f0_S = 0.32 / 0.21 ≈ 1.5.
        #expect(abs(source.cornerFrequencyHz(.p) / f0 - 1.5) < 1e-12)
        // Rupture duration 1/f0_S for both waves.
        #expect(abs(source.durationSeconds(.s, hypocentralDistanceKilometers: 40) - (1 / f0 + 2)) < 1e-12)
        #expect(abs(source.durationSeconds(.p, hypocentralDistanceKilometers: 40) - (1 / f0 + 2)) < 1e-12)
        #expect(StochasticPointSource.geometricSpreading(hypocentralDistanceKilometers: 50) == 1.0 / 50)
        #expect(StochasticPointSource.geometricSpreading(hypocentralDistanceKilometers: 100) == 1.0 / 70)
        #expect(abs(StochasticPointSource.geometricSpreading(hypocentralDistanceKilometers: 520) - 1.0 / 70 * 0.5) < 1e-15)
        // Direct P: 1/R at every distance.
        #expect(StochasticPointSource.geometricSpreading(.p, hypocentralDistanceKilometers: 100) == 1.0 / 100)
        #expect(StochasticPointSource.geometricSpreading(.p, hypocentralDistanceKilometers: 520) == 1.0 / 520)
        #expect(StochasticPointSource.geometricSpreading(.s, hypocentralDistanceKilometers: 100) == 1.0 / 70)
    }

    @Test("P site amplification is the S one at f·β/α; P and S spectral levels differ by (β/α)³ and the radiation/partition")
    func pWaveSpectrum() {
        var params = StochasticModelParameters()
        params.kappaSeconds = 0
        let source = StochasticPointSource(momentMagnitude: 3, parameters: params)
        let alpha = params.compressionalVelocityKilometersPerSecond, beta = params.shearVelocityKilometersPerSecond
        // Independent formula: C_P / C_S = (R_P · 1) / (R_S · V) · (β/α)³.
        let ratio = source.spectralLevelMeterSeconds(.p) / source.spectralLevelMeterSeconds(.s)
        #expect(abs(ratio - (4.0 / 15.0).squareRoot() / (0.55 / 2.0.squareRoot()) * pow(beta / alpha, 3)) < 1e-12)
        // Far below both corners and at R ≤ 70 km: Y_P/Y_S = level ratio × A_P/A_S × anelastic ratio.
        let f = 0.05, r = 30.0
        let yP = source.accelerationSpectrum(.p, frequencyHz: f, hypocentralDistanceKilometers: r)
        let yS = source.accelerationSpectrum(.s, frequencyHz: f, hypocentralDistanceKilometers: r)
        let aP = SiteAmplification.genericRock760.amplification(frequencyHz: f * beta / alpha, sourceDensity: 2.8, sourceVelocity: 3.5)
        let aS = SiteAmplification.genericRock760.amplification(frequencyHz: f, sourceDensity: 2.8, sourceVelocity: 3.5)
        func q(_ c: Double) -> Double { exp(-Double.pi * pow(f, 0.5) * r / (180 * c)) }
        let sourceP = 1 / (1 + pow(f / source.cornerFrequencyHz(.p), 2)), sourceS = 1 / (1 + pow(f / source.cornerFrequencyHz(.s), 2))
        #expect(abs(yP / yS - ratio * aP / aS * q(alpha) / q(beta) * sourceP / sourceS) < 1e-9 * ratio)
    }

    @Test("Saragoni-Hart window peaks at 1 at ε t_η and is η at t_η")
    func window() {
        let w = SaragoniHartWindow(epsilon: 0.2, eta: 0.05, tEtaSeconds: 10)
        #expect(abs(w.value(atSeconds: 2) - 1) < 1e-12)
        #expect(abs(w.value(atSeconds: 10) - 0.05) < 1e-12)
        #expect(w.value(atSeconds: 1.9) < 1 && w.value(atSeconds: 2.1) < 1)
        #expect(w.value(atSeconds: 0) == 0)
    }
}
