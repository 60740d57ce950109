// A minimal complex number for FFT spectra, laid out exactly like FFTW's `fftw_complex`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A complex number `real + i·imaginary` in `Double` precision, the element type of FFT spectra.
///
/// **Memory layout.** `Complex` is two stored `Double`s, `real` first, with size and stride
/// 16 bytes and `real` at offset 0, `imaginary` at offset 8: the layout of FFTW's `fftw_complex`
/// (`double[2]`, FFTW manual, "Complex numbers"). ``RealFFT`` therefore hands buffers of
/// `Complex` to FFTW without copying. The layout is checked once when the first plan is made and
/// in the test suite (`FFTTests.swift`, "Complex is layout-compatible with fftw_complex").
///
/// Only what spectral code needs is provided: arithmetic, conjugate, magnitude and phase.
/// Equality is component-wise `Double` equality (so `-0.0 == 0.0`, and NaN is unequal to itself).
public struct Complex: Sendable, Hashable, BitwiseCopyable, CustomStringConvertible {
    /// Real part.
    public var real: Double
    /// Imaginary part.
    public var imaginary: Double

    /// Creates `real + i·imaginary`.
    @inlinable
    public init(real: Double, imaginary: Double) {
        self.real = real
        self.imaginary = imaginary
    }

    /// Creates the complex number with magnitude `magnitude` and phase `phaseRadians`:
    /// `magnitude · (cos φ + i·sin φ)`.
    public init(magnitude: Double, phaseRadians: Double) {
        self.real = magnitude * cos(phaseRadians)
        self.imaginary = magnitude * sin(phaseRadians)
    }

    /// `0 + 0i`.
    public static let zero = Complex(real: 0, imaginary: 0)

    /// The modulus `|z| = √(re² + im²)`, computed with `hypot` so that it neither overflows nor
    /// underflows for finite parts.
    public var magnitude: Double { hypot(real, imaginary) }

    /// `|z|² = re² + im²` (the power of an FFT bin). Cheaper than ``magnitude`` and exact up to
    /// two roundings, but it overflows for parts above ≈ 1.3e154.
    @inlinable
    public var squaredMagnitude: Double { real * real + imaginary * imaginary }

    /// The argument `atan2(im, re)` in radians, in `[-π, π]`. `atan2(±0, +0)` is `±0`.
    public var phaseRadians: Double { atan2(imaginary, real) }

    /// The complex conjugate `re − i·im`.
    @inlinable
    public var conjugate: Complex { Complex(real: real, imaginary: -imaginary) }

    @inlinable
    public static func + (lhs: Complex, rhs: Complex) -> Complex {
        Complex(real: lhs.real + rhs.real, imaginary: lhs.imaginary + rhs.imaginary)
    }

    @inlinable
    public static func - (lhs: Complex, rhs: Complex) -> Complex {
        Complex(real: lhs.real - rhs.real, imaginary: lhs.imaginary - rhs.imaginary)
    }

    @inlinable
    public static prefix func - (operand: Complex) -> Complex {
        Complex(real: -operand.real, imaginary: -operand.imaginary)
    }

    /// The textbook product `(a + ib)(c + id) = (ac − bd) + i(ad + bc)`: four multiplications,
    /// no special handling of infinities (unlike C99 Annex G).
    @inlinable
    public static func * (lhs: Complex, rhs: Complex) -> Complex {
        Complex(real: lhs.real * rhs.real - lhs.imaginary * rhs.imaginary,
                imaginary: lhs.real * rhs.imaginary + lhs.imaginary * rhs.real)
    }

    /// Scales both parts by a real factor.
    @inlinable
    public static func * (lhs: Complex, rhs: Double) -> Complex {
        Complex(real: lhs.real * rhs, imaginary: lhs.imaginary * rhs)
    }

    /// Scales both parts by a real factor.
    @inlinable
    public static func * (lhs: Double, rhs: Complex) -> Complex {
        rhs * lhs
    }

    @inlinable
    public static func += (lhs: inout Complex, rhs: Complex) { lhs = lhs + rhs }

    @inlinable
    public static func -= (lhs: inout Complex, rhs: Complex) { lhs = lhs - rhs }

    @inlinable
    public static func *= (lhs: inout Complex, rhs: Complex) { lhs = lhs * rhs }

    @inlinable
    public static func *= (lhs: inout Complex, rhs: Double) { lhs = lhs * rhs }

    /// `"re+imi"`, e.g. `"1.0-2.5i"`.
    public var description: String {
        imaginary.sign == .minus ? "\(real)-\(-imaginary)i" : "\(real)+\(imaginary)i"
    }
}
