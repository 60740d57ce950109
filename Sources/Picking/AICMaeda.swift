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
        // Forward: segment x[0...i], i = 1 ... n−2, gives the first term of AIC[i].
        // Backward: segment x[i...n−1], i = n−2 ... 1, gives the second term of AIC[i − 1].
        // The two recurrences are independent; running them in the same loop (step s: forward
        // i = s, backward i = n − 1 − s) lets the processor overlap their division and logarithm
        // latencies. Every value is computed by the same operations as in two separate passes,
        // and AIC[j] is always `first + second` in that operand order, so the result is
        // bit-identical to the two-pass form (tested against it).
        var fMean = x[0], fM2 = 0.0, fCount = 1.0
        var bMean = x[n - 1], bM2 = 0.0, bCount = 1.0
        aic[0] = 0
        for s in 1...(n - 2) {
            fCount += 1
            let fDelta = x[s] - fMean
            fMean += fDelta / fCount
            fM2 += fDelta * (x[s] - fMean)
            let first = fCount * log(fM2 / fCount)
            let ib = n - 1 - s
            bCount += 1
            let bDelta = x[ib] - bMean
            bMean += bDelta / bCount
            bM2 += bDelta * (x[ib] - bMean)
            let second = (bCount - 1) * log(bM2 / bCount)
            // AIC[s]'s second term was stored at step n − 2 − s (if that step exists and is earlier).
            if s <= n - 3, n - 2 - s < s { aic[s] = first + aic[s] } else { aic[s] = first }
            // AIC[j]'s first term was stored at step j (j = 0: before the loop) if j <= s.
            let j = ib - 1
            if j <= s { aic[j] = aic[j] + second } else { aic[j] = second }
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
