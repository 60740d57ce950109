internal import Foundation

/// Minimal complex number used by the filter design (pole/zero arithmetic). Internal only.
///
/// The operations follow the formulas NumPy uses for `complex128` (Smith's division, `hypot`
/// magnitude, principal square root), so designs agree with SciPy to rounding.
struct IIRComplex: Equatable, Sendable {
    var re: Double
    var im: Double

    init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    static let zero = IIRComplex(0, 0)
    static let one = IIRComplex(1, 0)

    var conjugate: IIRComplex { IIRComplex(re, -im) }
    /// `|z|` computed with `hypot` (no overflow, as NumPy's `abs`).
    var magnitude: Double { hypot(re, im) }
    /// `np.isreal`: exactly zero imaginary part.
    var isReal: Bool { im == 0 }

    static func + (a: IIRComplex, b: IIRComplex) -> IIRComplex { IIRComplex(a.re + b.re, a.im + b.im) }
    static func - (a: IIRComplex, b: IIRComplex) -> IIRComplex { IIRComplex(a.re - b.re, a.im - b.im) }
    static prefix func - (a: IIRComplex) -> IIRComplex { IIRComplex(-a.re, -a.im) }
    static func * (a: IIRComplex, b: IIRComplex) -> IIRComplex {
        IIRComplex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    static func * (a: IIRComplex, s: Double) -> IIRComplex { IIRComplex(a.re * s, a.im * s) }

    /// Smith's algorithm (as NumPy), robust against overflow.
    static func / (a: IIRComplex, b: IIRComplex) -> IIRComplex {
        let absBr = abs(b.re), absBi = abs(b.im)
        if absBr >= absBi {
            if absBr == 0 && absBi == 0 {
                return IIRComplex(a.re / absBr, a.im / absBi)
            }
            let rat = b.im / b.re
            let scl = 1.0 / (b.re + b.im * rat)
            return IIRComplex((a.re + a.im * rat) * scl, (a.im - a.re * rat) * scl)
        } else {
            let rat = b.re / b.im
            let scl = 1.0 / (b.im + b.re * rat)
            return IIRComplex((a.re * rat + a.im) * scl, (a.im * rat - a.re) * scl)
        }
    }

    /// Principal square root (branch cut on the negative real axis; the sign of a zero imaginary
    /// part selects the side, as C99 `csqrt`).
    var squareRoot: IIRComplex {
        if re == 0 && im == 0 { return IIRComplex(0, im) }
        let m = magnitude
        if re >= 0 {
            let t = (0.5 * (m + re)).squareRoot()
            return IIRComplex(t, im / (2 * t))
        } else {
            let t = (0.5 * (m - re)).squareRoot()
            return IIRComplex(abs(im) / (2 * t), im.sign == .minus ? -t : t)
        }
    }

    /// `exp(i·theta)`.
    static func unit(angle theta: Double) -> IIRComplex { IIRComplex(cos(theta), sin(theta)) }
}
