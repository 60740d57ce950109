import Foundation
import GroundMotion
import SignalProcessing
import Testing

@Suite("Poles and zeros")
struct PolesZerosTests {
    @Test("one real pole: gain 1/√2 and phase −45° at the corner")
    func singlePoleCorner() {
        // H(s) = A0/(s + ωc), A0 = ωc: unit DC gain, |H| = 1/√2 and arg H = −π/4 at f = fc.
        let fc = 2.5
        let wc = 2 * Double.pi * fc
        let paz = PolesZeros(zeros: [], poles: [Complex(real: -wc, imaginary: 0)], normalizationFactor: wc, sensitivity: 3)
        let h = paz.normalizedResponse(atFrequencyHz: fc)
        #expect(abs(h.magnitude - 1 / 2.0.squareRoot()) < 1e-15)
        #expect(abs(h.phaseRadians + Double.pi / 4) < 1e-15)
        #expect(abs(paz.normalizedResponse(atFrequencyHz: 0).real - 1) < 1e-15)
        #expect(abs(paz.response(atFrequencyHz: fc).magnitude - 3 / 2.0.squareRoot()) < 1e-14)
    }

    @Test("Wood–Anderson poles match algorithms.md §6")
    func woodAndersonPoles() {
        let h07 = WoodAndersonSeismograph.uhrhammerCollins1990.polesZeros(input: .displacement)
        let h08 = WoodAndersonSeismograph.gutenberg1935.polesZeros(input: .displacement)
        // algorithms.md: h 0.7 → −5.498 ± 5.609i; h 0.8 → −6.283 ± 4.712i (3 decimals).
        #expect(abs(h07.poles[0].real + 5.498) < 5e-4 && abs(abs(h07.poles[0].imaginary) - 5.609) < 5e-4)
        #expect(abs(h08.poles[0].real + 6.283) < 5e-4 && abs(abs(h08.poles[0].imaginary) - 4.712) < 5e-4)
        #expect(h07.zeros.count == 2 && h07.sensitivity == 2080 && h08.sensitivity == 2800)
        #expect(h07.isConjugateSymmetric && h08.isConjugateSymmetric)
    }

    @Test("Wood–Anderson displacement gain: G at high frequency, G/(2h) at resonance")
    func woodAndersonGain() {
        for seismograph in WoodAndersonSeismograph.allCases {
            let paz = seismograph.polesZeros(input: .displacement)
            let g = seismograph.staticMagnification
            // |H(iω0)| = G ω0² / |2 h ω0²| = G/(2h) for H = G s²/(s² + 2hω0 s + ω0²).
            let resonance = paz.response(atFrequencyHz: 1 / 0.8).magnitude
            #expect(close(resonance, g / (2 * seismograph.dampingRatio), relativeTo: g, tolerance: 1e-13))
            #expect(close(paz.response(atFrequencyHz: 1e4).magnitude, g, relativeTo: g, tolerance: 1e-6))
        }
    }

    @Test("changing the input quantity multiplies by powers of s")
    func conversion() {
        let displacement = WoodAndersonSeismograph.uhrhammerCollins1990.polesZeros(input: .displacement)
        let velocity = displacement.converted(from: .displacement, to: .velocity)
        let acceleration = displacement.converted(from: .displacement, to: .acceleration)
        #expect(velocity.zeros.count == 1 && acceleration.zeros.isEmpty && acceleration.poles.count == 2)
        for f in [0.1, 1.0, 7.3] {
            let s = Complex(real: 0, imaginary: 2 * Double.pi * f)
            let hd = displacement.response(atFrequencyHz: f)
            let hv = velocity.response(atFrequencyHz: f)
            let ha = acceleration.response(atFrequencyHz: f)
            // H_disp = H_vel · s = H_acc · s².
            #expect(((hv * s) - hd).magnitude <= 1e-12 * hd.magnitude)
            #expect(((ha * s * s) - hd).magnitude <= 1e-12 * hd.magnitude)
        }
        // Past the last zero at the origin, a pole at the origin is added (and removed again).
        let flat = PolesZeros.flat(sensitivity: 5)
        let integrated = flat.converted(from: .velocity, to: .acceleration)
        #expect(integrated.poles == [.zero])
        #expect(integrated.converted(from: .acceleration, to: .velocity) == flat)
    }
}

@Suite("Tapers")
struct TaperTests {
    @Test("ObsPy cosine_taper(100, 0.1): hand-computed weights")
    func obspyTaper() throws {
        // frac = ⌊100·0.1/2 + 0.5⌋ = 5 → i2 = 4, i3 = 95: w[i] = ½(1 − cos(πi/4)) for i ≤ 4,
        // 1 for 5…94, ½(1 + cos(π(95 − i)/4)) for i ≥ 95.
        let w = try TimeDomainTaper(totalFraction: 0.1).window(count: 100)
        #expect(w[0] == 0 && w[99] == 0)
        #expect(abs(w[1] - 0.5 * (1 - cos(Double.pi / 4))) < 1e-16)
        #expect(abs(w[2] - 0.5) < 1e-15)
        #expect(w[4] == 1 && w[5] == 1 && w[94] == 1 && w[95] == 1)
        #expect(abs(w[97] - 0.5) < 1e-15)
        #expect(abs(w[98] - 0.5 * (1 + cos(3 * Double.pi / 4))) < 1e-16)
        // Degenerate: frac = 1 → i2 bumped to 1, i3 to n−2.
        let tiny = try TimeDomainTaper(totalFraction: 0.05).window(count: 30)
        #expect(tiny[0] == 0 && tiny[1] == 1 && tiny[28] == 1 && tiny[29] == 0)
        #expect(TimeDomainTaper.none.window(count: 3) == [1, 1, 1])
        #expect(throws: GroundMotionError.self) { try TimeDomainTaper(totalFraction: 1.5) }
    }

    @Test("equals ObsPy cosine_taper(npts, p) on edge sizes (npts 1…101, p 0…1)")
    func obspyTaperEdgeCases() throws {
        let fixture = try GMFixtures.json("cosine_taper.json")
        let cases = try fixture.array("cases")
        #expect(cases.count == 35)
        for c in cases {
            let npts = try c.int("npts"), p = try c.double("p")
            let expected = try c.doubles("window")
            let window = try TimeDomainTaper(totalFraction: p).window(count: npts)
            #expect(window.count == expected.count)
            for (a, b) in zip(window, expected) {
                #expect(abs(a - b) <= 1e-15, "npts \(npts) p \(p): \(window) vs \(expected)")
            }
        }
    }

    @Test("SAC cosine band taper: flanks and pass band")
    func bandTaper() throws {
        let t = try CosineBandTaper(lowStopHz: 0.05, lowPassHz: 0.1, highPassHz: 10, highStopHz: 20)
        #expect(t.value(atFrequencyHz: 0) == 0 && t.value(atFrequencyHz: 0.05) == 0)
        #expect(abs(t.value(atFrequencyHz: 0.075) - 0.5) < 1e-15)
        #expect(t.value(atFrequencyHz: 0.1) == 1 && t.value(atFrequencyHz: 5) == 1 && t.value(atFrequencyHz: 10) == 1)
        #expect(abs(t.value(atFrequencyHz: 15) - 0.5) < 1e-15)
        #expect(t.value(atFrequencyHz: 20) == 0 && t.value(atFrequencyHz: 30) == 0)
        let open = try CosineBandTaper(lowStopHz: 0.05, lowPassHz: 0.1, highPassHz: .infinity, highStopHz: .infinity)
        #expect(open.value(atFrequencyHz: 1e6) == 1)
        #expect(throws: GroundMotionError.self) {
            try CosineBandTaper(lowStopHz: 0.1, lowPassHz: 0.1, highPassHz: 1, highStopHz: 2)
        }
        #expect(throws: GroundMotionError.self) {
            try CosineBandTaper(lowStopHz: 0.01, lowPassHz: 0.1, highPassHz: 3, highStopHz: 2)
        }
    }
}
