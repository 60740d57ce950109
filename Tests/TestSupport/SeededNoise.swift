public import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Test-data helpers on SeismicCore's seeded ``SplitMix64``, shared by every test target so that
/// each suite draws reproducible inputs from one documented generator.
extension SplitMix64 {
    /// Uniform in [-1, 1), from the top 53 bits (exact: `k · 2⁻⁵² − 1`).
    public mutating func signedUniform() -> Double {
        Double(next() >> 11) * 0x1p-52 - 1.0
    }

    /// `count` values uniform in [-1, 1).
    public mutating func signedSamples(_ count: Int) -> [Double] {
        (0..<count).map { _ in signedUniform() }
    }

    /// A whole number in `0..<n` (`n > 0`; modulo bias is irrelevant for test inputs).
    public mutating func int(below n: Int) -> Int {
        Int(next() % UInt64(n))
    }

    /// A standard normal deviate (Box–Muller on `Double.random(in:using:)` draws).
    public mutating func normal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// `count` normal deviates scaled by `sigma`.
    public mutating func noise(count: Int, sigma: Double = 1) -> [Double] {
        (0..<count).map { _ in sigma * normal() }
    }
}
