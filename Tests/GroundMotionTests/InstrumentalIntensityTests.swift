import Foundation
import GroundMotion
import SeismicCore
import Testing

@Suite("GB/T 17742-2020 instrumental intensity")
struct InstrumentalIntensityTests {
    @Test("I_A and I_V formulas on hand values")
    func formulas() {
        #expect(abs(InstrumentalIntensityCalculator.intensity(fromPGA: 1) - 6.59) < 1e-15)
        #expect(abs(InstrumentalIntensityCalculator.intensity(fromPGA: 10) - 9.76) < 1e-14)
        #expect(abs(InstrumentalIntensityCalculator.intensity(fromPGV: 1) - 9.77) < 1e-15)
        #expect(abs(InstrumentalIntensityCalculator.intensity(fromPGV: 0.01) - 3.77) < 1e-14)
    }

    @Test("combination rule branches, clipping and rounding")
    func combination() {
        typealias C = InstrumentalIntensityCalculator
        // Both ≥ 6 → I_V.
        #expect(C.combine(intensityFromPGA: 6.0, intensityFromPGV: 6.0) == 6.0)
        #expect(C.combine(intensityFromPGA: 8.0, intensityFromPGV: 7.0) == 7.0)
        // Only one ≥ 6 → mean with "and", I_V with "or".
        #expect(C.combine(intensityFromPGA: 5.0, intensityFromPGV: 7.0) == 6.0)
        #expect(C.combine(intensityFromPGA: 5.0, intensityFromPGV: 7.0, rule: .either) == 7.0)
        #expect(C.combine(intensityFromPGA: 7.0, intensityFromPGV: 5.5) == 6.25)
        #expect(C.combine(intensityFromPGA: 7.0, intensityFromPGV: 5.5, rule: .either) == 5.5)
        // Neither: mean.
        #expect(C.combine(intensityFromPGA: 3.0, intensityFromPGV: 4.0, rule: .either) == 3.5)
        // Clipping to [1, 12]; zero motion (−∞) and NaN give 1.
        #expect(C.combine(intensityFromPGA: -3, intensityFromPGV: -1) == 1.0)
        #expect(C.combine(intensityFromPGA: 13, intensityFromPGV: 14) == 12.0)
        #expect(C.combine(intensityFromPGA: -.infinity, intensityFromPGV: -.infinity) == 1.0)
        #expect(C.combine(intensityFromPGA: .nan, intensityFromPGV: 3) == 1.0)
        // One decimal, halves away from zero (6.25 is exact in binary).
        #expect(C.roundToOneDecimal(6.25) == 6.3)
        #expect(C.roundToOneDecimal(6.24) == 6.2)
        #expect(C.roundToOneDecimal(1.0) == 1.0)
    }

    /// Circular motion `a_E = A·e(t)·sin(ωt + φ)`, `a_N = A·e(t)·cos(ωt + φ)` (vector magnitude
    /// `A·e(t)`), `e` the envelope.
    static func circular(amplitude: Double, frequencyHz: Double, rate: Double, count: Int,
                         envelope: (Double) -> Double = { _ in 1 }) -> [[Double]] {
        let omega = 2 * Double.pi * frequencyHz
        var east: [Double] = [], north: [Double] = []
        for i in 0..<count {
            let t = Double(i) / rate
            east.append(amplitude * envelope(t) * sin(omega * t + 0.3))
            north.append(amplitude * envelope(t) * cos(omega * t + 0.3))
        }
        return [east, north]
    }

    @Test("periodic lines at 0.05, 1, 40 Hz, no taper: PGA = A·B(f), PGV = A·B(f)/2πf (filter shape)")
    func filterShape() throws {
        // Whole cycles in the window and FFT length n: each component is a single FFT line,
        // so the band-passed vector amplitude is exactly A·B(f) with
        // B(f) = 1/√(1 + (0.1/f)^8) · 1/√(1 + (f/10)^8).
        let rate = 200.0, n = 40_000  // 200 s
        var calculator = InstrumentalIntensityCalculator(
            windowOptions: SpectralWindowOptions(removeMean: true, taper: .none, length: .exactly(n)))
        for (f, amplitude) in [(0.05, 2.0), (1.0, 0.5), (40.0, 3.0)] {
            let expectedGain = 1 / (1 + pow(0.1 / f, 8)).squareRoot() / (1 + pow(f / 10, 8)).squareRoot()
            let result = try calculator.compute(components: Self.circular(amplitude: amplitude, frequencyHz: f, rate: rate, count: n),
                                                samplingRateHz: rate)
            let pga = amplitude * expectedGain
            let pgv = pga / (2 * Double.pi * f)
            #expect(close(result.pgaMetersPerSecondSquared, pga, relativeTo: pga, tolerance: 1e-9), "\(f) Hz: \(result.pgaMetersPerSecondSquared) vs \(pga)")
            // PGV at 40 Hz is 6e4 times below the input amplitude and 1/(2πf) lifts the FFT's
            // rounding noise at low frequencies: 1e-8 relative measured, hence 1e-7.
            #expect(close(result.pgvMetersPerSecond, pgv, relativeTo: pgv, tolerance: 1e-7), "\(f) Hz: \(result.pgvMetersPerSecond) vs \(pgv)")
        }
        // −3 dB at the nominal corners.
        #expect(abs(IntensityBandPass.gbt17742.gain(atFrequencyHz: 0.1) - 1 / 2.0.squareRoot()) < 1e-15)
        #expect(abs(IntensityBandPass.gbt17742.gain(atFrequencyHz: 10) - 1 / 2.0.squareRoot()) < 1e-6)
    }

    @Test("1 Hz burst of 1 m/s² in a realistic window: PGA 1, PGV 1/2π to 1e-3, I = I_V = 7.4")
    func sinusoidBurst() throws {
        // 60.37 s at 100 sps; the motion ramps up over 5–15 s and down over 45–55 s (raised
        // cosine), with quiet before and after like a real record. In the flat part the vector
        // acceleration is 1 m/s² and the vector velocity 1/ω; the band-pass gain at 1 Hz is
        // 1 − 1e-8, and the envelope's sidebands (< 0.1 Hz wide) stay in the pass band.
        let rate = 100.0, n = 6037
        let envelope: (Double) -> Double = { t in
            if t < 5 || t > 55 { return 0 }
            if t < 15 { return 0.5 * (1 - cos(Double.pi * (t - 5) / 10)) }
            if t > 45 { return 0.5 * (1 + cos(Double.pi * (t - 45) / 10)) }
            return 1
        }
        var components = Self.circular(amplitude: 1, frequencyHz: 1, rate: rate, count: n, envelope: envelope)
        components.append([Double](repeating: 0.01, count: n))  // a constant: removed with the mean
        var calculator = InstrumentalIntensityCalculator()
        let result = try calculator.compute(components: components, samplingRateHz: rate)
        let omega = 2 * Double.pi
        #expect(abs(result.pgaMetersPerSecondSquared - 1) < 1e-3, "PGA \(result.pgaMetersPerSecondSquared)")
        #expect(abs(result.pgvMetersPerSecond * omega - 1) < 1e-3, "PGV·ω \(result.pgvMetersPerSecond * omega)")
        // I_A = 6.59; I_V = 3·lg(1/2π) + 9.77 = 7.37546: both ≥ 6 → I = I_V → 7.4.
        #expect(abs(result.intensityFromPGA - 6.59) < 2e-3)
        #expect(abs(result.intensityFromPGV - 7.37546) < 2e-3)
        #expect(result.intensity == 7.4)
        #expect(result.components.count == 3)
        #expect(result.components[2].pgaMetersPerSecondSquared < 1e-12)
        #expect(abs(result.components[0].pgaMetersPerSecondSquared - 1) < 1e-3)
        // Reusing the calculator (its scratch buffers) gives bit-identical results.
        let again = try calculator.compute(components: components, samplingRateHz: rate)
        #expect(again == result)
    }

    @Test("MEMA 3-component record: same as an independent NumPy implementation; raw peaks = ObsPy")
    func memaRecord() throws {
        let fixture = try GMFixtures.json("intensity_mema.json")
        let expectedComponents = try fixture.array("components")
        var blocks: [SampleBlock] = []
        for (index, expected) in expectedComponents.enumerated() {
            var block = try GMFixtures.segment("obspy_MEMA_ch\(index).mseed")
            let calib = try expected.double("calib_m_s2_per_count")
            block.samples = block.samples.map { $0 * calib }
            block.unit = .metersPerSecondSquared
            #expect(block.streamID.description == (expected["stream"] as? String))
            blocks.append(block)
        }
        var calculator = InstrumentalIntensityCalculator()
        let result = try calculator.compute(blocks: blocks)
        // Same method, different FFT library (NumPy pocketfft vs FFTW): rounding-level agreement.
        let pga = try fixture.double("pga_m_s2"), pgv = try fixture.double("pgv_m_s")
        #expect(close(result.pgaMetersPerSecondSquared, pga, relativeTo: pga, tolerance: 1e-9))
        #expect(close(result.pgvMetersPerSecond, pgv, relativeTo: pgv, tolerance: 1e-9))
        #expect(result.pgaSample == (try fixture.int("pga_sample")))
        #expect(result.pgvSample == (try fixture.int("pgv_sample")))
        #expect(abs(result.intensityFromPGA - (try fixture.double("intensity_from_pga"))) < 1e-9)
        #expect(abs(result.intensityFromPGV - (try fixture.double("intensity_from_pgv"))) < 1e-9)
        // A weak local event: I_A ≈ −2.1, I_V ≈ −3.4 → mean clipped to 1.0.
        let expectedIntensity = try fixture.double("intensity")
        #expect(result.intensity == 1.0 && expectedIntensity == 1.0)
        for (component, expected) in zip(result.components, expectedComponents) {
            let filtered = try expected.double("pga_filtered")
            #expect(close(component.pgaMetersPerSecondSquared, filtered, relativeTo: filtered, tolerance: 1e-9))
            let velocity = try expected.double("pgv_filtered")
            #expect(close(component.pgvMetersPerSecond, velocity, relativeTo: velocity, tolerance: 1e-9))
            // ObsPy's reference "pga" is max|x − mean|·calib of the UNFILTERED trace; ours
            // matches it to rounding. The band-passed peak is smaller (0.4–0.6 of it here):
            // this small event has much of its acceleration above 10 Hz.
            let obspyRaw = try expected.double("obspy_reference_pga")
            #expect(close(component.unfilteredPeakAccelerationMetersPerSecondSquared, obspyRaw, relativeTo: obspyRaw, tolerance: 1e-12))
            #expect(component.pgaMetersPerSecondSquared < obspyRaw)
        }
    }

    @Test("a reused calculator gives the same result as a fresh one, across different lengths")
    func reuseAcrossLengths() throws {
        // Deterministic pseudo-random records (LCG) of two lengths.
        func record(_ n: Int, seed: UInt64) -> [[Double]] {
            var state = seed
            return (0..<3).map { _ in
                (0..<n).map { _ in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Double(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
                }
            }
        }
        let long = record(3001, seed: 1), short = record(777, seed: 2)
        var reused = InstrumentalIntensityCalculator()
        let a = try reused.compute(components: long, samplingRateHz: 100)
        let b = try reused.compute(components: short, samplingRateHz: 50)
        let c = try reused.compute(components: long, samplingRateHz: 100)
        var fresh1 = InstrumentalIntensityCalculator(), fresh2 = InstrumentalIntensityCalculator()
        #expect(a == c)
        #expect(a == (try fresh1.compute(components: long, samplingRateHz: 100)))
        #expect(b == (try fresh2.compute(components: short, samplingRateHz: 50)))
        #expect(throws: GroundMotionError.nonFiniteSample(index: 2)) {
            try reused.compute(components: [[0, 1, .infinity, 3]], samplingRateHz: 100)
        }
    }

    @Test("input errors are typed")
    func errors() throws {
        var calculator = InstrumentalIntensityCalculator()
        #expect(throws: GroundMotionError.self) { try calculator.compute(components: [], samplingRateHz: 100) }
        #expect(throws: GroundMotionError.self) { try calculator.compute(components: [[1], [1], [1], [1]], samplingRateHz: 100) }
        #expect(throws: GroundMotionError.self) { try calculator.compute(components: [[1, 2], [1]], samplingRateHz: 100) }
        let id = try #require(StreamID("XX.STA..HNZ"))
        let counts = SampleBlock(streamID: id, startTime: Timestamp(nanosecondsSinceEpoch: 0), samplingRateHz: 100, unit: .counts, samples: [1, 2])
        #expect(throws: GroundMotionError.unexpectedUnit(stream: "XX.STA..HNZ", unit: "counts", expected: "metersPerSecondSquared")) {
            try calculator.compute(blocks: [counts])
        }
        var shifted = counts
        shifted.unit = .metersPerSecondSquared
        var other = shifted
        other.startTime = Timestamp(nanosecondsSinceEpoch: 1_000_000_000)
        #expect(throws: GroundMotionError.self) { try calculator.compute(blocks: [shifted, other]) }
        #expect(throws: GroundMotionError.self) { try IntensityBandPass(lowCornerHz: 10, highCornerHz: 1, order: 4) }
    }
}
