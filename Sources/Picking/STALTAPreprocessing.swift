// Offline preprocessing used to compare STA/LTA results with ObsPy/NumPy.

/// The arithmetic mean computed exactly as NumPy 2 computes `np.mean` of a contiguous float64
/// array: NumPy's pairwise summation (`pairwise_sum` in `loops_utils.h`: plain loop below 8
/// values, 8 interleaved accumulators up to blocks of 128, recursive halving above, split points
/// rounded down to multiples of 8), then one division by the count.
///
/// Reproducing NumPy's summation order makes `x − mean` bit-identical to the demeaned input of
/// the ObsPy reference results (`input.mean_hex` in the reference JSON files), also for float
/// traces where a different summation order would change the last bits of the mean. For
/// integer counts below 2^53 in total, every order gives the same exact sum.
///
/// Offline only (the whole segment must be known); a streaming picker removes the offset with a
/// causal high-pass instead.
///
/// - Returns: the mean, or nil for an empty buffer.
/// - Complexity: O(n), no allocation, recursion depth O(log n).
public func numpyCompatibleMean(_ values: UnsafeBufferPointer<Double>) -> Double? {
    guard !values.isEmpty else { return nil }
    return pairwiseSum(values) / Double(values.count)
}

/// Convenience for arrays; see ``numpyCompatibleMean(_:)-(UnsafeBufferPointer<Double>)``.
public func numpyCompatibleMean(_ values: [Double]) -> Double? {
    values.withUnsafeBufferPointer { numpyCompatibleMean($0) }
}

private func pairwiseSum(_ a: UnsafeBufferPointer<Double>) -> Double {
    let n = a.count
    if n < 8 {
        var sum = 0.0
        for v in a { sum += v }
        return sum
    }
    if n <= 128 {
        var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
        var i = 8
        let blocked = n - n % 8
        while i < blocked {
            r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
            r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
            i += 8
        }
        var sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n {
            sum += a[i]
            i += 1
        }
        return sum
    }
    var half = n / 2
    half -= half % 8
    return pairwiseSum(UnsafeBufferPointer(rebasing: a[0..<half])) + pairwiseSum(UnsafeBufferPointer(rebasing: a[half..<n]))
}
