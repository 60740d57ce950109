#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small seeded pseudo-random generator: SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable
/// pseudorandom number generators", OOPSLA; constants as in Vigna's public-domain reference).
///
/// Used wherever output must be reproducible from a seed on every platform and Swift version:
/// scenario simulation, drills, test inputs and benchmark data. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal deviate (Box–Muller transform, cosine branch).
    public mutating func nextStandardNormal() -> Double {
        let u1 = 1.0 - nextUniform()  // (0, 1]: log is finite
        let u2 = nextUniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
