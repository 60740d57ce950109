internal import Foundation
import Synchronization

/// The band type and corner frequencies (Hz) of a Butterworth filter.
public enum ButterworthBand: Sendable, Equatable, Hashable {
    /// Passes frequencies below `cornerHz` (−3 dB at the corner).
    case lowpass(cornerHz: Double)
    /// Passes frequencies above `cornerHz` (−3 dB at the corner).
    case highpass(cornerHz: Double)
    /// Passes `lowHz...highHz` (−3 dB at both corners).
    case bandpass(lowHz: Double, highHz: Double)

    /// The lowest corner frequency in Hz (the one that governs warm-up and the largest delays).
    public var lowestCornerHz: Double {
        switch self {
        case .lowpass(let f), .highpass(let f): return f
        case .bandpass(let lo, _): return lo
        }
    }
}

/// Digital Butterworth design by the bilinear transform with frequency pre-warping, reproducing
/// SciPy's `scipy.signal.butter(N, Wn, btype, fs=fs, output='sos')` step by step:
///
/// 1. analog low-pass prototype (`buttap`): no zeros, poles `p_m = −exp(iπ m / 2N)` for
///    `m = −N+1, −N+3, …, N−1`, gain 1 (Butterworth 1930);
/// 2. pre-warping of each corner `f` (Hz): `Wn = f / (fs/2)`, `ω_a = 4·tan(π·Wn/2)` (bilinear
///    transform with a fictitious rate 2, so the digital −3 dB points land exactly on `f`);
/// 3. frequency transform (`lp2lp_zpk`, `lp2hp_zpk`, `lp2bp_zpk`): low-pass `p·ω_a`; high-pass
///    `ω_a/p` with `N` zeros at 0; band-pass with `ω_0 = √(ω_1ω_2)`, `B = ω_2 − ω_1`:
///    `p·B/2 ± √((p·B/2)² − ω_0²)` and `N` zeros at 0;
/// 4. bilinear transform (`bilinear_zpk`, `fs2 = 4`): `z = (4 + s)/(4 − s)`, zeros at infinity go
///    to `z = −1`, gain `k·Re(Π(4 − z_s)/Π(4 − p_s))`;
/// 5. `zpk2sos` with SciPy's default "nearest" pairing: poles closest to the unit circle are
///    paired first and placed **last**, each with the nearest zero(s); an odd order gets an extra
///    pole/zero at the origin so every section is second order; the total gain multiplies the
///    numerator of the **first** section.
///
/// The result agrees with SciPy to rounding (tested to 1e-9 relative on coefficients and outputs,
/// Tests/Fixtures/filters).
///
/// References: S. Butterworth, "On the theory of filter amplifiers", Wireless Engineer 7 (1930)
/// 536–541; A. V. Oppenheim & R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed., §7.2.2
/// (bilinear transformation, pre-warping); SciPy `signal/_filter_design.py` (read for behaviour,
/// not copied).
public enum ButterworthDesign {
    /// Highest supported order. Higher orders are valid mathematically but pointless for seismic
    /// picking and make the transient needlessly long.
    public static let maximumOrder = 10

    /// Designs the cascade. Validates `1 <= order <= 10`, `0 < f < fs/2` for every corner and
    /// `low < high` for a band-pass.
    ///
    /// Designs are memoised per (order, band, rate) in a small process-wide table (the design is
    /// a pure function of them): components that build a filter per analysis, e.g. the onsite
    /// polarisation analysis at every pick, get the same coefficients without recomputing the
    /// poles and the section pairing on the warning's path (a few µs). Invalid parameters are
    /// never cached (they throw every time).
    /// - Complexity: a lookup under a lock after the first design of a parameter set.
    public static func sections(order: Int, band: ButterworthBand, samplingRateHz fs: Double)
        throws(FilterDesignError) -> SecondOrderSections
    {
        let key = DesignKey(order: order, band: band, samplingRateHz: fs)
        if let cached = designs.withLock({ $0[key] }) { return cached }
        let sos = try design(order: order, band: band, samplingRateHz: fs)
        designs.withLock { table in
            if table.count >= 256 { table.removeAll() }  // bounded (configurations use a handful)
            table[key] = sos
        }
        return sos
    }

    private struct DesignKey: Hashable, Sendable {
        var order: Int
        var band: ButterworthBand
        var samplingRateHz: Double
    }

    private static let designs = Mutex<[DesignKey: SecondOrderSections]>([:])

    /// The design itself (see ``sections(order:band:samplingRateHz:)``).
    private static func design(order: Int, band: ButterworthBand, samplingRateHz fs: Double)
        throws(FilterDesignError) -> SecondOrderSections
    {
        guard fs.isFinite, fs > 0 else { throw .invalidSamplingRate(fs) }
        guard (1...maximumOrder).contains(order) else { throw .orderOutOfRange(order) }
        let nyquist = fs / 2
        let corners: [Double]
        switch band {
        case .lowpass(let f), .highpass(let f): corners = [f]
        case .bandpass(let lo, let hi): corners = [lo, hi]
        }
        for f in corners {
            guard f.isFinite, f > 0, f < nyquist else { throw .cornerOutOfRange(cornerHz: f, nyquistHz: nyquist) }
        }
        if case .bandpass(let lo, let hi) = band, !(lo < hi) {
            throw .cornersNotIncreasing(lowHz: lo, highHz: hi)
        }
        // Normalised corners (fraction of Nyquist) and pre-warped analog corners (rate 2).
        let warped = corners.map { f -> Double in
            let wn = f / (fs / 2)
            return 2 * 2.0 * tan(Double.pi * wn / 2.0)
        }
        // 1. prototype
        var poles: [IIRComplex] = []
        for j in 0..<order {
            let m = Double(-order + 1 + 2 * j)
            let e = IIRComplex.unit(angle: Double.pi * m / Double(2 * order))
            poles.append(-e)
        }
        var zeros: [IIRComplex] = []
        var gain = 1.0
        // 3. frequency transform (the prototype has no zeros: relative degree = order)
        let degree = poles.count - zeros.count
        switch band {
        case .lowpass:
            let wo = warped[0]
            poles = poles.map { $0 * wo }
            zeros = zeros.map { $0 * wo }
            gain *= pow(wo, Double(degree))
        case .highpass:
            let wo = warped[0]
            var pz = IIRComplex.one, pp = IIRComplex.one
            for z in zeros { pz = pz * (-z) }
            for p in poles { pp = pp * (-p) }
            gain *= (pz / pp).re
            zeros = zeros.map { IIRComplex(wo) / $0 } + [IIRComplex](repeating: .zero, count: degree)
            poles = poles.map { IIRComplex(wo) / $0 }
        case .bandpass:
            let bw = warped[1] - warped[0]
            let wo = (warped[0] * warped[1]).squareRoot()
            func shift(_ v: [IIRComplex]) -> [IIRComplex] {
                let lp = v.map { $0 * (bw / 2) }
                let plus = lp.map { $0 + ($0 * $0 - IIRComplex(wo * wo)).squareRoot }
                let minus = lp.map { $0 - ($0 * $0 - IIRComplex(wo * wo)).squareRoot }
                return plus + minus
            }
            zeros = shift(zeros) + [IIRComplex](repeating: .zero, count: degree)
            poles = shift(poles)
            gain *= pow(bw, Double(degree))
        }
        // 4. bilinear transform with fs = 2
        let fs2 = IIRComplex(4.0)
        let bilinearDegree = poles.count - zeros.count
        var numProd = IIRComplex.one, denProd = IIRComplex.one
        for z in zeros { numProd = numProd * (fs2 - z) }
        for p in poles { denProd = denProd * (fs2 - p) }
        let zz = zeros.map { (fs2 + $0) / (fs2 - $0) } + [IIRComplex](repeating: IIRComplex(-1), count: bilinearDegree)
        let pz = poles.map { (fs2 + $0) / (fs2 - $0) }
        gain *= (numProd / denProd).re
        // 5. sections
        return SecondOrderSections(uncheckedSections: zpkToSOS(zeros: zz, poles: pz, gain: gain))
    }

    // MARK: - zpk2sos ("nearest" pairing, digital)

    /// Splits into one representative of each complex-conjugate pair (positive imaginary part,
    /// averaged with its partner) and the real values, sorted as SciPy's `_cplxreal` does.
    static func complexAndReal(_ values: [IIRComplex]) -> (complex: [IIRComplex], real: [Double]) {
        guard !values.isEmpty else { return ([], []) }
        let tol = 100 * Double.ulpOfOne
        // lexsort((|imag|, real)): primary key real part, secondary |imag|; stable.
        let sorted = values.enumerated().sorted { l, r in
            if l.element.re != r.element.re { return l.element.re < r.element.re }
            if abs(l.element.im) != abs(r.element.im) { return abs(l.element.im) < abs(r.element.im) }
            return l.offset < r.offset
        }.map(\.element)
        var reals: [Double] = []
        var cplx: [IIRComplex] = []
        for v in sorted {
            if abs(v.im) <= tol * v.magnitude { reals.append(v.re) } else { cplx.append(v) }
        }
        var zp = cplx.filter { $0.im > 0 }
        var zn = cplx.filter { $0.im < 0 }
        precondition(zp.count == zn.count, "Butterworth design produced an unpaired complex root")
        // Runs of (nearly) equal real part are sorted by |imag|.
        if zp.count > 1 {
            var start = 0
            while start < zp.count {
                var stop = start
                while stop + 1 < zp.count, zp[stop + 1].re - zp[stop].re <= tol * zp[stop].magnitude { stop += 1 }
                if stop > start {
                    zp[start...stop].sort { abs($0.im) < abs($1.im) }
                    zn[start...stop].sort { abs($0.im) < abs($1.im) }
                }
                start = stop + 1
            }
        }
        let averaged = zip(zp, zn).map { (p, n) in (p + n.conjugate) * 0.5 }
        return (averaged, reals)
    }

    /// Index of the value "worst" for a digital filter: closest to the unit circle (`argmin |1 − |p||`,
    /// first on ties).
    private static func worstIndex(_ values: [IIRComplex]) -> Int {
        var best = 0
        var bestDist = Double.infinity
        for (i, v) in values.enumerated() {
            let d = abs(1 - v.magnitude)
            if d < bestDist { bestDist = d; best = i }
        }
        return best
    }

    private enum Which { case real, complex, any }

    /// Index into `from` of the value nearest to `to`, restricted to real or complex values.
    private static func nearestIndex(_ from: [IIRComplex], to: IIRComplex, _ which: Which) -> Int? {
        var best: Int?
        var bestDist = Double.infinity
        for (i, v) in from.enumerated() {
            switch which {
            case .real where !v.isReal: continue
            case .complex where v.isReal: continue
            default: break
            }
            let d = (v - to).magnitude
            if d < bestDist { bestDist = d; best = i }
        }
        return best
    }

    /// `zpk2tf` of up to two zeros and two poles, padded at the front as SciPy's `_single_zpksos`.
    private static func section(zeros: [IIRComplex], poles: [IIRComplex]) -> SecondOrderSection {
        func poly(_ r: [IIRComplex]) -> [Double] {
            switch r.count {
            case 0: return [1]
            case 1: return [1, -r[0].re]
            default:
                let c1 = -r[0] - r[1]
                let c2 = r[0] * r[1]
                return [1, c1.re, c2.re]
            }
        }
        let b = poly(zeros)
        let a = poly(poles)
        var row = [Double](repeating: 0, count: 6)
        for (i, v) in b.enumerated() { row[3 - b.count + i] = v }
        for (i, v) in a.enumerated() { row[6 - a.count + i] = v }
        // a0 (row[3]) is 1 for a two-pole or padded one-pole denominator here.
        let a0 = row[3] == 0 ? 1 : row[3]
        return SecondOrderSection(b0: row[0], b1: row[1], b2: row[2], a1: row[4] / a0, a2: row[5] / a0)
    }

    /// SciPy's `zpk2sos(z, p, k, pairing='nearest')` for a digital filter.
    static func zpkToSOS(zeros z0: [IIRComplex], poles p0: [IIRComplex], gain k: Double) -> [SecondOrderSection] {
        if z0.isEmpty && p0.isEmpty {
            return [SecondOrderSection(b0: k, b1: 0, b2: 0, a1: 0, a2: 0)]
        }
        var p = p0 + [IIRComplex](repeating: .zero, count: max(z0.count - p0.count, 0))
        var z = z0 + [IIRComplex](repeating: .zero, count: max(p0.count - z0.count, 0))
        let nSections = (max(p.count, z.count) + 1) / 2
        if p.count % 2 == 1 {
            p.append(.zero)
            z.append(.zero)
        }
        let zs = complexAndReal(z)
        let ps = complexAndReal(p)
        z = zs.complex + zs.real.map { IIRComplex($0) }
        p = ps.complex + ps.real.map { IIRComplex($0) }

        var sos = [SecondOrderSection](repeating: SecondOrderSection(b0: 0, b1: 0, b2: 0, a1: 0, a2: 0),
                                       count: nSections)
        for si in stride(from: nSections - 1, through: 0, by: -1) {
            let p1Index = worstIndex(p)
            let p1 = p.remove(at: p1Index)
            let realPolesLeft = p.filter(\.isReal).count
            if p1.isReal && realPolesLeft == 0 {
                // Special case 1: last remaining real pole (pairs with a real zero and the origin).
                let zi = nearestIndex(z, to: p1, .real) ?? 0
                let z1 = z.remove(at: zi)
                sos[si] = section(zeros: [z1, .zero], poles: [p1, .zero])
            } else if p.count + 1 == z.count, !p1.isReal, realPolesLeft == 1, z.filter(\.isReal).count == 1 {
                // Special case 2: one real pole and one real zero left; pair with a complex zero.
                let zi = nearestIndex(z, to: p1, .complex) ?? 0
                let z1 = z.remove(at: zi)
                sos[si] = section(zeros: [z1, z1.conjugate], poles: [p1, p1.conjugate])
            } else {
                let p2: IIRComplex
                if p1.isReal {
                    let realIdx = p.indices.filter { p[$0].isReal }
                    let sub = realIdx.map { p[$0] }
                    let p2Index = realIdx[worstIndex(sub)]
                    p2 = p.remove(at: p2Index)
                } else {
                    p2 = p1.conjugate
                }
                if let zi = nearestIndex(z, to: p1, .any) {
                    let z1 = z.remove(at: zi)
                    if !z1.isReal {
                        sos[si] = section(zeros: [z1, z1.conjugate], poles: [p1, p2])
                    } else if let zi2 = nearestIndex(z, to: p1, .real) {
                        let z2 = z.remove(at: zi2)
                        sos[si] = section(zeros: [z1, z2], poles: [p1, p2])
                    } else {
                        sos[si] = section(zeros: [z1], poles: [p1, p2])
                    }
                } else {
                    sos[si] = section(zeros: [], poles: [p1, p2])
                }
            }
        }
        sos[0].b0 *= k
        sos[0].b1 *= k
        sos[0].b2 *= k
        return sos
    }
}
