/// Deterministic test noise (SplitMix64, Steele et al. 2014) shared by the picking tests of this
/// branch (AIC, trigger state machine, glitch rejection).
struct AICNoiseGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
    mutating func int(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
