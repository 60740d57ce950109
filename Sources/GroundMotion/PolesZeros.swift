public import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The physical quantity a transfer function takes as input (or a trace holds).
///
/// A seismometer described for one input quantity is converted to another by adding or removing
/// zeros at `s = 0`: displacement = velocity / s = acceleration / s² (Laplace domain).
public enum GroundMotionQuantity: String, Sendable, Hashable, CaseIterable {
    /// Ground displacement, m.
    case displacement
    /// Ground velocity, m/s.
    case velocity
    /// Ground acceleration, m/s².
    case acceleration

    /// How many times this quantity is differentiated with respect to displacement
    /// (displacement 0, velocity 1, acceleration 2).
    public var derivativeOrder: Int {
        switch self {
        case .displacement: 0
        case .velocity: 1
        case .acceleration: 2
        }
    }
}

/// An analogue (Laplace-domain) instrument response given by poles and zeros, in the SEED
/// "Laplace transform, rad/s" convention (SEED Reference Manual v2.4, Blockette 53, type A):
/// ```
/// H(s) = S · A0 · Π_k (s − z_k) / Π_k (s − p_k),     s = i·2π·f   (f in Hz)
/// ```
/// `A0` (``normalizationFactor``) makes `|A0 · Π(s−z)/Π(s−p)| = 1` at the normalisation frequency,
/// and `S` (``sensitivity``) is the overall gain there in output units per input unit (for a
/// seismometer + digitizer: counts per m/s; for a Wood–Anderson seismograph: metres of trace per
/// metre of ground, i.e. its static magnification). This is the split ObsPy uses in
/// `simulate_seismometer` (`paz['gain']` = A0, `paz['sensitivity']` = S; ObsPy 1.5.1
/// `obspy/signal/invsim.py`).
///
/// Stability is not enforced: a pole on the imaginary axis gives an infinite response at that
/// frequency. Poles and zeros with non-zero imaginary parts should come in conjugate pairs so that
/// the impulse response is real; ``isConjugateSymmetric`` checks this.
public struct PolesZeros: Sendable, Hashable {
    /// Zeros `z_k` in rad/s.
    public var zeros: [Complex]
    /// Poles `p_k` in rad/s.
    public var poles: [Complex]
    /// Normalisation factor `A0` (dimensionless scale of the rational function; ObsPy's `gain`).
    public var normalizationFactor: Double
    /// Overall sensitivity `S` at the normalisation frequency, output units per input unit
    /// (ObsPy's `sensitivity`).
    public var sensitivity: Double

    public init(zeros: [Complex], poles: [Complex], normalizationFactor: Double, sensitivity: Double) {
        self.zeros = zeros
        self.poles = poles
        self.normalizationFactor = normalizationFactor
        self.sensitivity = sensitivity
    }

    /// A flat response `H(s) = sensitivity` (no poles or zeros, A0 = 1): e.g. an accelerometer
    /// whose band is much wider than the signal, described for acceleration input.
    public static func flat(sensitivity: Double) -> PolesZeros {
        PolesZeros(zeros: [], poles: [], normalizationFactor: 1, sensitivity: sensitivity)
    }

    /// The same instrument described for a different input quantity: each step from displacement
    /// towards acceleration removes one zero at the origin (or adds a pole there if none is left),
    /// each step the other way adds a zero at the origin (`H_vel(s) = H_disp(s)/s`, so a
    /// displacement response with two zeros at 0 becomes a velocity response with one).
    ///
    /// - Parameters:
    ///   - from: The input quantity this response is described for.
    ///   - to: The input quantity wanted.
    public func converted(from: GroundMotionQuantity, to: GroundMotionQuantity) -> PolesZeros {
        var result = self
        var steps = to.derivativeOrder - from.derivativeOrder
        // Input differentiated more (e.g. displacement → acceleration): divide by s per step.
        while steps > 0 {
            if let index = result.zeros.firstIndex(of: .zero) {
                result.zeros.remove(at: index)
            } else {
                result.poles.append(.zero)
            }
            steps -= 1
        }
        // Input differentiated less: multiply by s per step.
        while steps < 0 {
            if let index = result.poles.firstIndex(of: .zero) {
                result.poles.remove(at: index)
            } else {
                result.zeros.append(.zero)
            }
            steps += 1
        }
        return result
    }

    /// `A0 · Π(s − z)/Π(s − p)` at `s = i·2π·f`: the response without ``sensitivity``.
    ///
    /// Evaluated as two running products and one complex division (Smith's algorithm), all in
    /// `Double`; ObsPy expands to polynomials first (`scipy.signal.zpk2tf` + `freqs`), which agrees
    /// to rounding (≈1e-15 relative for the few poles of seismometers).
    /// - Complexity: O(poles + zeros).
    public func normalizedResponse(atFrequencyHz frequencyHz: Double) -> Complex {
        let s = Complex(real: 0, imaginary: 2 * Double.pi * frequencyHz)
        var numerator = Complex(real: normalizationFactor, imaginary: 0)
        for zero in zeros { numerator = numerator * (s - zero) }
        var denominator = Complex(real: 1, imaginary: 0)
        for pole in poles { denominator = denominator * (s - pole) }
        return Complex.dividing(numerator, by: denominator)
    }

    /// The full response `S · A0 · Π(s − z)/Π(s − p)` at `s = i·2π·f`, in output units per input
    /// unit (complex: magnitude = gain, argument = phase lead in radians).
    public func response(atFrequencyHz frequencyHz: Double) -> Complex {
        normalizedResponse(atFrequencyHz: frequencyHz) * sensitivity
    }

    /// Whether every non-real pole and zero has its complex conjugate in the same list (to a
    /// relative tolerance `1e-12`), the condition for a real-valued impulse response.
    public var isConjugateSymmetric: Bool {
        func symmetric(_ roots: [Complex]) -> Bool {
            roots.allSatisfy { root in
                if root.imaginary == 0 { return true }
                let scale = Swift.max(root.magnitude, 1e-300)
                return roots.contains { (($0 - root.conjugate).magnitude / scale) <= 1e-12 }
            }
        }
        return symmetric(zeros) && symmetric(poles)
    }
}
