internal import Foundation

/// The Akaike information criterion onset function of Maeda (1985), computed directly from the
/// samples (no AR model), with exactly the definition of ObsPy's `aic_simple`
/// (`obspy/signal/src/aic_simple.c`).
///
/// For a window `x[0..<N]` (0-based), and `1 <= i <= N − 3`:
///
/// ```
/// AIC[i] = (i + 1) · ln var(x[0...i]) + (N − i − 2) · ln var(x[i+1...N−1])
/// ```
///
/// i.e. Maeda's `AIC(k) = k·ln var(x_1..x_k) + (N − k − 1)·ln var(x_{k+1}..x_N)` with `k = i + 1`
/// samples in the first segment (1-based). `var` is the **population** variance (divide by the
/// count). Edges, as in ObsPy: `AIC[N−2]` holds only the first term (the second segment has a
/// single sample and weight 0) and `AIC[N−1] = AIC[N−2]`. ObsPy leaves the first term of `AIC[0]`
/// uninitialised (`np.empty`); here it is taken as 0, so `AIC[0] = (N − 2)·ln var(x[1...N−1])`.
/// `N <= 2` gives all zeros. A segment with zero variance gives `−∞` (e.g. constant input).
///
/// The onset is the global minimum: the split point where the two segments are best described
/// as two different stationary processes (noise, then signal).
///
/// Numerics: both variances come from Welford's one-pass recurrences (Welford 1962), a forward
/// pass for the first term and a backward pass for the second, accumulated in `Double`; this is
/// numerically stable (no `Σx² − (Σx)²/n` cancellation) and O(N).
///
/// References: N. Maeda (1985), "A method for reading and checking phase times in autoprocessing
/// system of seismic wave data", Zisin (J. Seismol. Soc. Japan) 38, 365–379; B. P. Welford (1962),
/// Technometrics 4(3), 419–420; ObsPy `obspy.signal.trigger.aic_simple`.
///
/// - Complexity: O(N) time, no allocation in ``compute(_:into:)``.
public enum MaedaAIC {
    /// Writes the AIC of `x` into `aic[0..<x.count]` (`aic.count >= x.count`; must not alias `x`).
    public static func compute(_ x: UnsafeBufferPointer<Double>, into aic: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        precondition(aic.count >= n, "MaedaAIC.compute: output shorter than input")
        if n == 0 { return }
        if n <= 2 {
            for i in 0..<n { aic[i] = 0 }
            return
        }
        // Forward: segment x[0...i], i = 1 ... n−2.
        var mean = x[0]
        var m2 = 0.0
        var count = 1.0
        aic[0] = 0
        for i in 1...(n - 2) {
            count += 1
            let delta = x[i] - mean
            mean += delta / count
            m2 += delta * (x[i] - mean)
            aic[i] = count * log(m2 / count)
        }
        // Backward: segment x[i...n−1], i = n−2 ... 1, adds to AIC[i − 1].
        mean = x[n - 1]
        m2 = 0
        count = 1
        var i = n - 2
        while i > 0 {
            count += 1
            let delta = x[i] - mean
            mean += delta / count
            m2 += delta * (x[i] - mean)
            aic[i - 1] += (count - 1) * log(m2 / count)
            i -= 1
        }
        aic[n - 1] = aic[n - 2]
    }

    /// Returns the AIC of `x` (allocates).
    public static func compute(_ x: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xin in
            out.withUnsafeMutableBufferPointer { compute(xin, into: $0) }
        }
        return out
    }

    /// Index of the smallest finite AIC value in `range` (first one on ties), or nil if none is
    /// finite (e.g. flat input gives `−∞` everywhere).
    public static func minimumIndex(_ aic: UnsafeBufferPointer<Double>, in range: Range<Int>) -> Int? {
        var best: Int?
        var bestValue = Double.infinity
        for i in range where i >= 0 && i < aic.count {
            let v = aic[i]
            if v.isFinite, best == nil || v < bestValue {
                best = i
                bestValue = v
            }
        }
        return best
    }
}
