internal import Foundation

/// One second-order (biquad) section with `a0` normalised to 1:
///
/// ```
///          b0 + b1 z⁻¹ + b2 z⁻²
/// H(z) = ───────────────────────
///          1 + a1 z⁻¹ + a2 z⁻²
/// ```
///
/// A first-order section has `b2 = a2 = 0`. This is one row `[b0, b1, b2, 1, a1, a2]` of a SciPy
/// `sos` array.
public struct SecondOrderSection: Sendable, Equatable, Hashable {
    public var b0: Double
    public var b1: Double
    public var b2: Double
    public var a1: Double
    public var a2: Double

    public init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        self.b0 = b0
        self.b1 = b1
        self.b2 = b2
        self.a1 = a1
        self.a2 = a2
    }

    /// The six coefficients in SciPy's row layout `[b0, b1, b2, a0 = 1, a1, a2]`.
    public var sciPyRow: [Double] { [b0, b1, b2, 1, a1, a2] }
}

/// Errors of filter construction from coefficients or from a design request.
public enum FilterDesignError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sampling rate is not a positive finite number (value in Hz).
    case invalidSamplingRate(Double)
    /// The order is outside `1...10`.
    case orderOutOfRange(Int)
    /// A corner frequency is not inside `(0, fs/2)`; values in Hz.
    case cornerOutOfRange(cornerHz: Double, nyquistHz: Double)
    /// A band-pass low corner is not below its high corner (Hz).
    case cornersNotIncreasing(lowHz: Double, highHz: Double)
    /// A SciPy `sos` row does not have six finite numbers with a nonzero `a0` (row index).
    case invalidSectionRow(index: Int)
    /// No sections were given.
    case noSections

    public var description: String {
        switch self {
        case .invalidSamplingRate(let fs):
            return "sampling rate \(fs) Hz must be positive and finite"
        case .orderOutOfRange(let n):
            return "filter order \(n) is outside 1...10"
        case .cornerOutOfRange(let f, let nyq):
            return "corner frequency \(f) Hz must satisfy 0 < f < fs/2 = \(nyq) Hz"
        case .cornersNotIncreasing(let lo, let hi):
            return "band-pass low corner \(lo) Hz must be below the high corner \(hi) Hz"
        case .invalidSectionRow(let i):
            return "second-order section row \(i) must hold six finite numbers with a0 != 0"
        case .noSections:
            return "a cascade needs at least one second-order section"
        }
    }
}

/// A cascade of second-order sections, `H(z) = Π_s H_s(z)` (coefficients only, no state).
///
/// Cascaded biquads are used instead of one high-order transfer function (`b`, `a` polynomials)
/// because the polynomial form of a high-order narrow band-pass loses most of its significant
/// digits and can become unstable; the SOS form keeps every pole pair well conditioned.
public struct SecondOrderSections: Sendable, Equatable, Hashable {
    /// The sections in processing order (input goes through `sections[0]` first).
    public let sections: [SecondOrderSection]

    /// Creates a cascade. Throws if `sections` is empty or a coefficient is not finite.
    public init(sections: [SecondOrderSection]) throws(FilterDesignError) {
        guard !sections.isEmpty else { throw .noSections }
        for (i, s) in sections.enumerated() {
            guard s.b0.isFinite, s.b1.isFinite, s.b2.isFinite, s.a1.isFinite, s.a2.isFinite else {
                throw .invalidSectionRow(index: i)
            }
        }
        self.sections = sections
    }

    /// Creates a cascade from SciPy rows `[b0, b1, b2, a0, a1, a2]`; each row is divided by its `a0`.
    public init(sciPyRows rows: [[Double]]) throws(FilterDesignError) {
        var out: [SecondOrderSection] = []
        out.reserveCapacity(rows.count)
        for (i, r) in rows.enumerated() {
            guard r.count == 6, r.allSatisfy(\.isFinite), r[3] != 0 else { throw .invalidSectionRow(index: i) }
            let a0 = r[3]
            out.append(SecondOrderSection(b0: r[0] / a0, b1: r[1] / a0, b2: r[2] / a0, a1: r[4] / a0, a2: r[5] / a0))
        }
        try self.init(sections: out)
    }

    /// Internal unchecked init for designs that are finite by construction.
    init(uncheckedSections: [SecondOrderSection]) {
        self.sections = uncheckedSections
    }

    /// The SciPy `sos` array layout (`n × 6`, `a0 = 1`).
    public var sciPyRows: [[Double]] { sections.map(\.sciPyRow) }

    /// Complex frequency response `H(e^{iω})` at `frequencyHz` for sampling rate `samplingRateHz`,
    /// as `(real, imaginary)`.
    public func frequencyResponse(atFrequencyHz frequencyHz: Double, samplingRateHz: Double)
        -> (real: Double, imaginary: Double)
    {
        let w = 2 * Double.pi * frequencyHz / samplingRateHz
        let z1 = IIRComplex(cos(w), -sin(w))  // e^{-iω}
        let z2 = z1 * z1
        var h = IIRComplex.one
        for s in sections {
            let num = IIRComplex(s.b0) + z1 * s.b1 + z2 * s.b2
            let den = IIRComplex(1) + z1 * s.a1 + z2 * s.a2
            h = h * (num / den)
        }
        return (h.re, h.im)
    }

    /// Gain `|H(e^{iω})|` (linear, dimensionless) at `frequencyHz`.
    public func gain(atFrequencyHz frequencyHz: Double, samplingRateHz: Double) -> Double {
        let h = frequencyResponse(atFrequencyHz: frequencyHz, samplingRateHz: samplingRateHz)
        return hypot(h.real, h.imaginary)
    }

    /// Group delay `τ(ω) = −dφ/dω` in **samples** at normalised angular frequency `ω` (rad/sample).
    ///
    /// Computed analytically per section and summed (the phase of a cascade is the sum of the
    /// section phases). For a polynomial `P(z⁻¹) = Σ_n p_n z⁻ⁿ` the phase derivative is
    /// `−d arg P(e^{iω})/dω = Re[ Σ n p_n e^{−iωn} / Σ p_n e^{−iωn} ]`, so per section
    /// `τ_s = Re[B'/B] − Re[A'/A]` with `B' = Σ n b_n e^{−iωn}` (Oppenheim & Schafer, *Discrete-Time
    /// Signal Processing*, 3rd ed., §5.1.2, group delay of rational systems). Undefined (non-finite)
    /// exactly at a zero on the unit circle, e.g. `f = 0` for a high-pass, `f = fs/2` for a low-pass.
    public func groupDelaySamples(atAngularFrequency w: Double) -> Double {
        let e1 = IIRComplex(cos(w), -sin(w))
        let e2 = e1 * e1
        var tau = 0.0
        for s in sections {
            let b = IIRComplex(s.b0) + e1 * s.b1 + e2 * s.b2
            let db = e1 * s.b1 + e2 * (2 * s.b2)
            let a = IIRComplex(1) + e1 * s.a1 + e2 * s.a2
            let da = e1 * s.a1 + e2 * (2 * s.a2)
            tau += (db / b).re - (da / a).re
        }
        return tau
    }

    /// Group delay in seconds at `frequencyHz` (`0 < f < fs/2`): ``groupDelaySamples(atAngularFrequency:)``
    /// at `ω = 2π f / fs`, divided by `fs`.
    public func groupDelaySeconds(atFrequencyHz frequencyHz: Double, samplingRateHz: Double) -> Double {
        groupDelaySamples(atAngularFrequency: 2 * Double.pi * frequencyHz / samplingRateHz) / samplingRateHz
    }

    /// Largest pole radius `max |p|` over all sections (< 1 for a stable filter).
    ///
    /// The poles of a section are the roots of `z² + a1 z + a2`: a complex pair of radius `√a2`
    /// when `a1² < 4 a2`, else two real roots (one root, `−a1`, for a first-order section).
    public var largestPoleRadius: Double {
        var rMax = 0.0
        for s in sections {
            let disc = s.a1 * s.a1 - 4 * s.a2
            if disc < 0 {
                rMax = max(rMax, s.a2.squareRoot())
            } else {
                let sq = disc.squareRoot()
                rMax = max(rMax, abs((-s.a1 + sq) / 2), abs((-s.a1 - sq) / 2))
            }
        }
        return rMax
    }

    /// Time in seconds for the slowest natural mode to decay to `fraction` of its start value:
    /// `ln(fraction) / ln(max|p|) / fs`. With `fraction = 1e-3` (−60 dB) this is the filter's warm-up
    /// (start-up transient) length. Infinite if a pole is on or outside the unit circle.
    public func settlingTimeSeconds(toFraction fraction: Double = 1e-3, samplingRateHz: Double) -> Double {
        let r = largestPoleRadius
        guard r < 1 else { return .infinity }
        guard r > 0 else { return 0 }
        return log(fraction) / log(r) / samplingRateHz
    }
}

/// A streaming cascade of second-order sections, applied exactly like SciPy's
/// `scipy.signal.sosfilt`: **direct form II transposed** per section with zero initial state,
///
/// ```
/// y[n]  = b0·x[n] + z0
/// z0    = b1·x[n] − a1·y[n] + z1
/// z1    = b2·x[n] − a2·y[n]
/// ```
///
/// the output of section `s` being the input of section `s + 1`.
///
/// - Latency: causal, no look-ahead (output sample `n` depends on inputs `0...n` only); the
///   frequency-dependent group delay is ``SecondOrderSections/groupDelaySeconds(atFrequencyHz:samplingRateHz:)``.
/// - Warm-up: starting from zero state, the output carries a start-up transient that decays like
///   the slowest pole, see ``SecondOrderSections/settlingTimeSeconds(toFraction:samplingRateHz:)``.
/// - Chunking: state is carried across calls, and each sample goes through exactly the same
///   floating-point operations whatever the block boundaries, so the output for any chunking is
///   bit-identical to one-block processing.
/// - Complexity: O(sections) per sample, no allocation in ``process(_:into:)``.
public struct SOSFilter: Sendable {
    /// The coefficients.
    public let coefficients: SecondOrderSections
    /// Flat coefficients `[b0, b1, b2, a1, a2]` per section (hot-path copy).
    private let flat: [Double]
    /// Two delay-line values `[z0, z1]` per section.
    private var state: [Double]

    public init(_ coefficients: SecondOrderSections) {
        self.coefficients = coefficients
        var f: [Double] = []
        f.reserveCapacity(coefficients.sections.count * 5)
        for s in coefficients.sections { f += [s.b0, s.b1, s.b2, s.a1, s.a2] }
        self.flat = f
        self.state = [Double](repeating: 0, count: coefficients.sections.count * 2)
    }

    /// Number of sections.
    public var sectionCount: Int { coefficients.sections.count }

    /// The current delay-line state, `[z0, z1]` per section (for inspection and tests).
    public var stateValues: [Double] { state }

    /// Number of delay-line values (`2 × sectionCount`), the size of a state snapshot.
    public var stateCount: Int { state.count }

    /// Copies the delay-line state (`[z0, z1]` per section) into the first ``stateCount`` elements
    /// of `destination` (`destination.count >= stateCount`). With ``restoreState(from:)`` this
    /// snapshots and rolls back the filter without allocating (copying the whole filter value
    /// would share the state array, so the next ``process(_:into:)`` would copy it on write).
    /// - Complexity: O(sections), no allocation.
    public func copyState(into destination: UnsafeMutableBufferPointer<Double>) {
        precondition(destination.count >= state.count, "SOSFilter.copyState: destination shorter than the state")
        state.withUnsafeBufferPointer { st in
            for i in 0..<st.count { destination[i] = st[i] }
        }
    }

    /// Restores a state saved by ``copyState(into:)`` from the first ``stateCount`` elements of
    /// `source` (`source.count >= stateCount`); the next output is then bit-identical to the one
    /// after the snapshot.
    /// - Complexity: O(sections), no allocation (the state storage is reused).
    public mutating func restoreState(from source: UnsafeBufferPointer<Double>) {
        precondition(source.count >= state.count, "SOSFilter.restoreState: source shorter than the state")
        state.withUnsafeMutableBufferPointer { st in
            for i in 0..<st.count { st[i] = source[i] }
        }
    }

    /// Clears the state to zero (as if no sample had been seen).
    public mutating func reset() {
        state.withUnsafeMutableBufferPointer { st in
            for i in 0..<st.count { st[i] = 0 }
        }
    }

    /// Filters `input` into `output` (`output.count >= input.count`; the first `input.count`
    /// elements are written). `input` and `output` may be the same memory (in-place).
    public mutating func process(_ input: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= input.count, "SOSFilter.process: output buffer shorter than input")
        let n = input.count
        guard n > 0, let inBase = input.baseAddress, let outBase = output.baseAddress else { return }
        let sections = flat.count / 5
        flat.withUnsafeBufferPointer { c in
            state.withUnsafeMutableBufferPointer { st in
                guard let cBase = c.baseAddress, let stBase = st.baseAddress else { return }
                // Sections run in groups of up to four, sample by sample inside a group: each
                // section's recursion is a serial dependency chain (~16 cycles per sample), and
                // interleaving consecutive sections lets the CPU overlap them (section s + 1 works
                // on sample i while section s already computes sample i + 1), about 3× faster than
                // one section at a time over the whole block. Every sample still goes through
                // exactly the same operations per section, so the output is bit-identical to
                // section-by-section (and sample-by-sample) processing.
                var src = UnsafePointer(inBase)
                var s = 0
                while s < sections {
                    let group = min(4, sections - s)
                    let cs = cBase + 5 * s, zs = stBase + 2 * s
                    switch group {
                    case 4: Self.run4(cs, zs, src, outBase, n)
                    case 3:
                        Self.run2(cs, zs, src, outBase, n)
                        Self.run1(cs + 10, zs + 4, UnsafePointer(outBase), outBase, n)
                    case 2: Self.run2(cs, zs, src, outBase, n)
                    default: Self.run1(cs, zs, src, outBase, n)
                    }
                    s += group
                    src = UnsafePointer(outBase)
                }
            }
        }
    }

    // The per-section update, written out identically in every kernel (direct form II
    // transposed; `c` = [b0, b1, b2, a1, a2] per section, `z` = [z0, z1] per section):
    //     y = b0·x + z0;   z0 = b1·x − a1·y + z1;   z1 = b2·x − a2·y

    @inline(__always)
    private static func run1(_ c: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>,
                             _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int)
    {
        let b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4]
        var z0 = z[0], z1 = z[1]
        for i in 0..<n {
            let x = src[i]
            let y = b0 * x + z0
            z0 = b1 * x - a1 * y + z1
            z1 = b2 * x - a2 * y
            dst[i] = y
        }
        z[0] = z0
        z[1] = z1
    }

    @inline(__always)
    private static func run2(_ c: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>,
                             _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int)
    {
        let b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4]
        let d0 = c[5], d1 = c[6], d2 = c[7], e1 = c[8], e2 = c[9]
        var z0 = z[0], z1 = z[1], w0 = z[2], w1 = z[3]
        for i in 0..<n {
            let x = src[i]
            let y = b0 * x + z0
            z0 = b1 * x - a1 * y + z1
            z1 = b2 * x - a2 * y
            let y2 = d0 * y + w0
            w0 = d1 * y - e1 * y2 + w1
            w1 = d2 * y - e2 * y2
            dst[i] = y2
        }
        z[0] = z0
        z[1] = z1
        z[2] = w0
        z[3] = w1
    }

    @inline(__always)
    private static func run4(_ c: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>,
                             _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int)
    {
        let b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4]
        let d0 = c[5], d1 = c[6], d2 = c[7], e1 = c[8], e2 = c[9]
        let f0 = c[10], f1 = c[11], f2 = c[12], g1 = c[13], g2 = c[14]
        let h0 = c[15], h1 = c[16], h2 = c[17], k1 = c[18], k2 = c[19]
        var z0 = z[0], z1 = z[1], w0 = z[2], w1 = z[3], u0 = z[4], u1 = z[5], v0 = z[6], v1 = z[7]
        for i in 0..<n {
            let x = src[i]
            let y = b0 * x + z0
            z0 = b1 * x - a1 * y + z1
            z1 = b2 * x - a2 * y
            let y2 = d0 * y + w0
            w0 = d1 * y - e1 * y2 + w1
            w1 = d2 * y - e2 * y2
            let y3 = f0 * y2 + u0
            u0 = f1 * y2 - g1 * y3 + u1
            u1 = f2 * y2 - g2 * y3
            let y4 = h0 * y3 + v0
            v0 = h1 * y3 - k1 * y4 + v1
            v1 = h2 * y3 - k2 * y4
            dst[i] = y4
        }
        z[0] = z0
        z[1] = z1
        z[2] = w0
        z[3] = w1
        z[4] = u0
        z[5] = u1
        z[6] = v0
        z[7] = v1
    }

    /// Filters `samples` in place.
    public mutating func process(inPlace samples: UnsafeMutableBufferPointer<Double>) {
        process(UnsafeBufferPointer(samples), into: samples)
    }

    /// Filters `samples` in place (convenience over ``process(inPlace:)``).
    public mutating func process(_ samples: inout [Double]) {
        samples.withUnsafeMutableBufferPointer { process(inPlace: $0) }
    }

    /// Returns the filtered copy of `input` (allocates; use ``process(_:into:)`` on hot paths).
    public mutating func filtered(_ input: [Double]) -> [Double] {
        var out = input
        process(&out)
        return out
    }
}
