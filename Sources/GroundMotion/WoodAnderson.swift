import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Wood–Anderson torsion seismograph as a damped harmonic oscillator (algorithms.md §6):
/// natural period `T0 = 0.8 s` (`ω0 = 2π/T0`), damping `h`, static magnification `G`, with poles
/// ```
/// p = −h·ω0 ± i·ω0·√(1 − h²)          (rad/s)
/// ```
/// and `H_disp(s) = G · s² / ((s − p₁)(s − p₂))` for ground displacement in, trace displacement
/// out (two zeros at the origin; one for velocity input, none for acceleration input), A0 = 1
/// (normalised at high frequency, where `|H_disp| → G`). This is the parametrisation of SeisComP
/// `libs/seiscomp/math/filter/seismometers.cpp`.
///
/// Two calibrations are in use:
/// - ``gutenberg1935``: `h = 0.8`, `G = 2800` (Gutenberg 1935, the classic calibration; ObsPy's
///   `invsim` comment "PITSA has 2800"). Poles −6.283 ± 4.712i.
/// - ``uhrhammerCollins1990``: `h = 0.7`, `G = 2080` (Uhrhammer & Collins 1990, BSSA 80(3),
///   702–716; the IASPEI 2011 standard and SeisComP's default). Poles −5.498 ± 5.609i.
/// The magnitude offset between them at the flat part is `log10(2800/2080) = 0.129`.
/// ObsPy's `invsim.WOODANDERSON` mixes the two (poles of h = 0.8 rounded to −6.283 ± 4.7124i,
/// sensitivity 2080); to reproduce ObsPy, build that ``PolesZeros`` explicitly.
public enum WoodAndersonSeismograph: String, Sendable, Hashable, CaseIterable {
    /// h = 0.8, static magnification 2800 (Gutenberg).
    case gutenberg1935
    /// h = 0.7, static magnification 2080 (Uhrhammer & Collins 1990).
    case uhrhammerCollins1990

    /// Natural period `T0`, s (0.8 for both calibrations).
    public var naturalPeriodSeconds: Double { 0.8 }

    /// Fraction of critical damping `h`.
    public var dampingRatio: Double {
        switch self {
        case .gutenberg1935: 0.8
        case .uhrhammerCollins1990: 0.7
        }
    }

    /// Static magnification `G` (trace displacement per ground displacement at high frequency).
    public var staticMagnification: Double {
        switch self {
        case .gutenberg1935: 2800
        case .uhrhammerCollins1990: 2080
        }
    }

    /// Poles and zeros for the given input quantity; output is trace displacement in metres
    /// (multiply by 1000 for the mm of Richter's amplitudes). A0 = 1, sensitivity = `G`.
    public func polesZeros(input: GroundMotionQuantity) -> PolesZeros {
        let omega0 = 2 * Double.pi / naturalPeriodSeconds
        let h = dampingRatio
        let real = -h * omega0
        let imaginary = omega0 * (1 - h * h).squareRoot()
        let displacement = PolesZeros(
            zeros: [.zero, .zero],
            poles: [Complex(real: real, imaginary: imaginary), Complex(real: real, imaginary: -imaginary)],
            normalizationFactor: 1, sensitivity: staticMagnification)
        return displacement.converted(from: .displacement, to: input)
    }
}

/// Peak of a simulated Wood–Anderson trace.
public struct WoodAndersonAmplitude: Sendable, Hashable {
    /// Largest `|trace|` (zero-to-peak), mm.
    public var peakMillimeters: Double
    /// 0-based sample index of that peak.
    public var peakSample: Int
}

extension ResponseSimulation {
    /// Simulates a Wood–Anderson seismograph on a ground-acceleration window (m/s²) and returns
    /// the trace in mm (pen displacement) plus its zero-to-peak amplitude.
    ///
    /// Acceleration input needs no deconvolution: `H_acc(s) = G/((s − p₁)(s − p₂))` is applied
    /// directly (step 4 of the simulation recipe); the oscillator itself is the high-pass that
    /// makes the double integration stable, and the 0 Hz bin is removed with the mean.
    ///
    /// - Parameters:
    ///   - acceleration: Ground acceleration, m/s² (counts divided by the gain beforehand).
    ///   - samplingRateHz: Hz.
    ///   - seismograph: Which WA calibration.
    ///   - trace: Resized and overwritten with the WA trace in mm.
    public mutating func woodAnderson(acceleration: [Double], samplingRateHz: Double,
                                      seismograph: WoodAndersonSeismograph,
                                      trace: inout [Double]) throws(GroundMotionError) -> WoodAndersonAmplitude {
        try simulate(acceleration, samplingRateHz: samplingRateHz, remove: nil,
                     simulate: seismograph.polesZeros(input: .acceleration), into: &trace)
        var peak = 0.0
        var peakSample = 0
        for index in trace.indices {
            trace[index] *= 1000
            let magnitude = abs(trace[index])
            if magnitude > peak {
                peak = magnitude
                peakSample = index
            }
        }
        return WoodAndersonAmplitude(peakMillimeters: peak, peakSample: peakSample)
    }
}

/// Local magnitude from Wood–Anderson amplitudes.
///
/// ## Hutton & Boore (1987), southern California
/// L. K. Hutton and D. M. Boore, "The ML scale in southern California", BSSA 77(6), 2074–2094,
/// 1987 (algorithms.md §6, confirmed by three independent codes):
/// ```
/// ML = log10 A + 1.110 · log10(r / 100) + 0.00189 · (r − 100) + 3.0
/// ```
/// `A`: Wood–Anderson zero-to-peak amplitude in **mm** on one horizontal component; `r`:
/// hypocentral distance in **km**. Anchored at ML 3 for 1 mm at 100 km. A station magnitude is
/// usually the mean over the two horizontals. Which WA magnification the relation assumes is not
/// settled in the project notes (the IASPEI 2080-based form is marked UNCERTAIN in
/// algorithms.md §6): the two ``WoodAndersonSeismograph`` calibrations differ by
/// `log10(2800/2080) = 0.129` magnitude units, so state which one was simulated with every ML.
///
/// ## The Chinese convention: GB 17740-2017 (not implemented)
/// GB 17740-2017 (地震震级的规定, algorithms.md §5) defines `ML = lg A + R(Δ)` with
/// `A = (A_N + A_E)/2`, the maximum S/Lg amplitudes in **μm** (> 2× noise) on the two horizontals
/// of records simulated as a **DD-1 short-period seismograph, not Wood–Anderson**, `Δ` epicentral
/// distance in km and the calibration function `R(Δ)` tabulated in its Appendix A. Implementing it
/// needs (1) the DD-1 poles/zeros and gain of Appendix B (B.1) and (2) the R(Δ) table of
/// Appendix A; neither was retrieved (algorithms.md §5, §10), so no DD-1 function is offered and
/// Hutton & Boore / WA values must not be reported as the Chinese ML. The standard also says
/// measured magnitudes must not be converted into one another; Mw is the preferred published one.
public enum LocalMagnitude {
    /// Hutton & Boore (1987) ML (see the type's documentation).
    /// - Parameters:
    ///   - amplitudeMillimeters: WA zero-to-peak amplitude, mm, > 0.
    ///   - hypocentralDistanceKilometers: km, > 0.
    /// - Returns: ML, or nil if an argument is not positive and finite.
    public static func huttonBoore1987(amplitudeMillimeters: Double, hypocentralDistanceKilometers r: Double) -> Double? {
        guard amplitudeMillimeters > 0, amplitudeMillimeters.isFinite, r > 0, r.isFinite else { return nil }
        return log10(amplitudeMillimeters) + 1.110 * log10(r / 100) + 0.00189 * (r - 100) + 3.0
    }
}
