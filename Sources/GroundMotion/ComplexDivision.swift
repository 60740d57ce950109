public import SignalProcessing

extension Complex {
    /// `lhs / rhs` by Smith's (1962) algorithm, which scales by the larger part of the divisor so
    /// that intermediate products do not overflow or underflow for finite operands
    /// (R. L. Smith, "Algorithm 116: Complex division", CACM 5(8), 435, 1962).
    /// Division by zero gives non-finite parts, as for `Double`.
    @inlinable
    static func dividing(_ lhs: Complex, by rhs: Complex) -> Complex {
        let c = rhs.real, d = rhs.imaginary
        if abs(c) >= abs(d) {
            let ratio = d / c
            let denominator = c + d * ratio
            return Complex(real: (lhs.real + lhs.imaginary * ratio) / denominator,
                           imaginary: (lhs.imaginary - lhs.real * ratio) / denominator)
        } else {
            let ratio = c / d
            let denominator = c * ratio + d
            return Complex(real: (lhs.real * ratio + lhs.imaginary) / denominator,
                           imaginary: (lhs.imaginary * ratio - lhs.real) / denominator)
        }
    }
}
