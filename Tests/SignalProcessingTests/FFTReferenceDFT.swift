// Independent reference twins for the FFT tests: a naive O(n²) DFT computed carefully enough to
// be accurate to ≈ 1e-16 relative, a seeded PRNG, and the error measure the tests use.
import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The naive DFT, the twin of `RealFFT`.
///
/// Accuracy: each twiddle `e^{∓2πi·m/n}` is computed from an exact integer reduction of `m/n` to
/// an angle in [0, π/4] (so the angle carries an absolute error ≤ 2e-16 and `sin`/`cos` are
/// evaluated where they are best conditioned), and every sum is a compensated dot product
/// (Dot2 of Ogita, Rump & Oishi 2005, "Accurate sum and dot product", SIAM J. Sci. Comput. 26(6),
/// 1955–1988, Algorithm 5.3: exact products via FMA, error-free TwoSum accumulation), which is as
/// accurate as evaluating in twice the working precision. The reference is therefore accurate to
/// a few 1e-16 relative to its largest bin, far below the 1e-12 tolerance under test.
enum ReferenceDFT {
    /// `(cos(2π·m/n), sin(2π·m/n))` for `m` in `0..<n`.
    static func twiddles(_ n: Int) -> (cos: [Double], sin: [Double]) {
        var cosines = [Double](repeating: 0, count: n)
        var sines = [Double](repeating: 0, count: n)
        for m in 0..<n {
            // θ = 2π·m/n = (π/4)·a/n with a = 8m ∈ [0, 8n); reduce a to [0, n] by symmetries.
            var a = 8 * m
            var sinSign = 1.0, cosSign = 1.0, swap = false
            if a > 4 * n { a = 8 * n - a; sinSign = -1 }   // θ → 2π − θ
            if a > 2 * n { a = 4 * n - a; cosSign = -1 }   // θ → π − θ
            if a > n { a = 2 * n - a; swap = true }        // θ → π/2 − θ
            let angle = (Double.pi / 4) * (Double(a) / Double(n))
            let c = cos(angle), s = sin(angle)
            cosines[m] = cosSign * (swap ? s : c)
            sines[m] = sinSign * (swap ? c : s)
        }
        return (cosines, sines)
    }

    /// Error-free compensated accumulator (TwoSum + FMA TwoProduct): `value` is the sum of all
    /// added products as if accumulated in twice the working precision.
    struct Dot2 {
        private var sum = 0.0
        private var compensation = 0.0

        mutating func addProduct(_ a: Double, _ b: Double) {
            let product = a * b
            let productError = (-product).addingProduct(a, b)  // exact: a·b − fl(a·b)
            let newSum = sum + product
            let z = newSum - sum
            let sumError = (sum - (newSum - z)) + (product - z)  // exact: TwoSum error
            sum = newSum
            compensation += productError + sumError
        }

        var value: Double { sum + compensation }
    }

    /// `X_k = Σ_j x_j e^{−2πijk/n}` for `k = 0…n/2`.
    static func forward(_ x: [Double]) -> [Complex] {
        let n = x.count
        let (cosines, sines) = twiddles(n)
        return (0...(n / 2)).map { k in
            var re = Dot2(), im = Dot2()
            for j in 0..<n {
                let m = (j * k) % n
                re.addProduct(x[j], cosines[m])
                im.addProduct(x[j], -sines[m])
            }
            return Complex(real: re.value, imaginary: im.value)
        }
    }

    /// Unnormalised inverse of a half spectrum `X_0…X_{n/2}` under Hermitian symmetry:
    /// `x_j = Re X_0 + 2 Σ_{0<k<n/2} (Re X_k cos θ − Im X_k sin θ) + [n even] Re X_{n/2} (−1)^j`,
    /// `θ = 2πjk/n`. The imaginary parts of `X_0` and (even n) `X_{n/2}` do not enter.
    static func inverse(_ spectrum: [Complex], count n: Int) -> [Double] {
        precondition(spectrum.count == n / 2 + 1)
        let (cosines, sines) = twiddles(n)
        let lastPaired = (n - 1) / 2
        return (0..<n).map { j in
            var acc = Dot2()
            acc.addProduct(spectrum[0].real, 1)
            if lastPaired >= 1 {
                for k in 1...lastPaired {
                    let m = (j * k) % n
                    acc.addProduct(2 * spectrum[k].real, cosines[m])
                    acc.addProduct(-2 * spectrum[k].imaginary, sines[m])
                }
            }
            if n % 2 == 0 {
                acc.addProduct(spectrum[n / 2].real, j % 2 == 0 ? 1 : -1)
            }
            return acc.value
        }
    }
}

/// The error measure of the FFT tests, for complex vectors:
/// `max_k |X_k − R_k| / max_k |R_k|` (relative to the largest reference bin, so tiny bins are
/// judged on the scale of the whole spectrum, as FFT error bounds are stated).
func relativeError(_ actual: [Complex], _ reference: [Complex]) -> Double {
    precondition(actual.count == reference.count)
    var maxDifference = 0.0, maxReference = 0.0
    for (a, r) in zip(actual, reference) {
        maxDifference = max(maxDifference, (a - r).magnitude)
        maxReference = max(maxReference, r.magnitude)
    }
    return maxReference == 0 ? maxDifference : maxDifference / maxReference
}

/// `max_j |x_j − r_j| / max_j |r_j|` for real vectors.
func relativeError(_ actual: [Double], _ reference: [Double]) -> Double {
    precondition(actual.count == reference.count)
    var maxDifference = 0.0, maxReference = 0.0
    for (a, r) in zip(actual, reference) {
        maxDifference = max(maxDifference, abs(a - r))
        maxReference = max(maxReference, abs(r))
    }
    return maxReference == 0 ? maxDifference : maxDifference / maxReference
}

/// Lengths covered by the accuracy tests: small, powers of two, odd, prime (2, 3, 5, 7, 17, 31,
/// 97, 127, 257, 509, 2039, 4093) and composite with large prime factors, up to 4096.
let fftTestLengths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 64, 97, 100, 127, 128, 255, 256, 257,
                      509, 512, 1000, 1023, 1024, 2039, 2048, 4093, 4096]
