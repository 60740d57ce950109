// Recursive (exponentially weighted) STA/LTA with ObsPy's exact numerics.

/// Recursive STA/LTA: exponentially weighted short- and long-term averages of the signal power
/// (Evans & Allen 1983; ObsPy `recursive_sta_lta`).
///
/// ```
/// csta = 1 / nsta,   clta = 1 / nlta,   sta = lta = 0 before sample 1
/// for i ≥ 1:  sta_i = csta · x_i² + (1 − csta) · sta_{i−1}
///             lta_i = clta · x_i² + (1 − clta) · lta_{i−1}
///             cf_i  = sta_i / lta_i
/// cf_i = 0 for i < nlta   (warm-up; sample 0 is never used)
/// ```
/// The operations, their order and the constants are those of ObsPy 1.5's C code
/// (`obspy/signal/src/recstalta.c`), so the output is bit-identical to `recursive_sta_lta`
/// (verified on the 24 reference traces by `scripts/dev/stalta_compare_obspy.py`).
/// Input: any unit; output: dimensionless. Latency: 0 samples (causal). Warm-up: the first
/// `nlta` outputs are exactly 0, but the averages are updated from sample 1 on.
///
/// Difference from ObsPy, documented: ObsPy zeroes the warm-up only when the whole array is
/// longer than `nlta` (and never writes `cf[0]`, which `np.empty` leaves undefined); a streaming
/// filter cannot know the record length, so here the first `nlta` outputs are always 0. The two
/// agree on every record longer than `nlta` samples.
///
/// Numerics on long streams: the recursion forgets old samples geometrically (factor
/// `1 − 1/nlta` per sample), so rounding errors do not accumulate; there is no drift.
///
/// Long blocks (≥ 17 × 48 · max(nsta, nlta) steady-state samples in one ``process(_:into:)``
/// call, input and output not overlapping) run 4 segments in parallel SIMD lanes with an exact
/// bit-for-bit verification (`STALTARecursiveParallel.swift`); the output is the same bits.
///
/// - Complexity: O(1) per sample, no allocation, O(1) memory.
///
/// References: J. R. Evans and S. S. Allen (1983), "A teleseism-specific detection algorithm
/// for single short-period traces", BSSA 73(4), 1173–1186; R. V. Allen (1978), BSSA 68(5);
/// M. Withers et al. (1998), BSSA 88(1), 95–106 (p. 98); ObsPy
/// `obspy.signal.trigger.recursive_sta_lta` and `src/recstalta.c`.
public struct RecursiveSTALTA: STALTACharacteristicFunction {
    public let staSampleCount: Int
    public let ltaSampleCount: Int

    private let staWeight: Double
    private let staDecay: Double
    private let ltaWeight: Double
    private let ltaDecay: Double

    private var sta = 0.0
    private var lta = 0.0
    public private(set) var processedSampleCount = 0

    /// Samples 0 ..< nlta are warm-up (output 0).
    public var warmUpSampleCount: Int { ltaSampleCount }

    /// Creates the filter from time constants in samples.
    ///
    /// - Parameters:
    ///   - staSampleCount: STA time constant `nsta` in samples, ≥ 1.
    ///   - ltaSampleCount: LTA time constant `nlta` in samples, ≥ 1 (normally ≫ nsta).
    /// - Throws: ``STALTAParameterError/nonPositiveWindow(parameter:samples:)``.
    public init(staSampleCount: Int, ltaSampleCount: Int) throws(STALTAParameterError) {
        guard staSampleCount >= 1 else { throw .nonPositiveWindow(parameter: "sta", samples: staSampleCount) }
        guard ltaSampleCount >= 1 else { throw .nonPositiveWindow(parameter: "lta", samples: ltaSampleCount) }
        self.staSampleCount = staSampleCount
        self.ltaSampleCount = ltaSampleCount
        // As in recstalta.c: c = 1./(double)n, and the decay factor (1 - c) in double.
        staWeight = 1.0 / Double(staSampleCount)
        ltaWeight = 1.0 / Double(ltaSampleCount)
        staDecay = 1.0 - staWeight
        ltaDecay = 1.0 - ltaWeight
    }

    /// Creates the filter from time constants in seconds, converted once to samples by rounding
    /// to nearest (`round(seconds × samplingRateHz)`).
    public init(staSeconds: Double, ltaSeconds: Double, samplingRateHz: Double) throws(STALTAParameterError) {
        let nsta = try STALTAWindows.samples(seconds: staSeconds, samplingRateHz: samplingRateHz, parameter: "sta")
        let nlta = try STALTAWindows.samples(seconds: ltaSeconds, samplingRateHz: samplingRateHz, parameter: "lta")
        try self.init(staSampleCount: nsta, ltaSampleCount: nlta)
    }

    public mutating func reset() {
        sta = 0
        lta = 0
        processedSampleCount = 0
    }

    /// - Complexity: O(input.count), no allocation.
    public mutating func process(_ input: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= input.count, "RecursiveSTALTA.process: output buffer shorter than input")
        var sta = self.sta
        var lta = self.lta
        var count = processedSampleCount
        let nlta = ltaSampleCount
        let cs = staWeight, ds = staDecay, cl = ltaWeight, dl = ltaDecay
        var k = 0
        // Sample 0 of the record is skipped by the recursion (loop starts at i = 1 in ObsPy).
        if count == 0, input.count > 0 {
            output[0] = 0
            count = 1
            k = 1
        }
        let n = input.count
        // Warm-up (samples < nlta): the averages are updated, the output is 0.
        while k < n, count < nlta {
            let x = input[k]
            let square = x * x
            sta = cs * square + ds * sta
            lta = cl * square + dl * lta
            output[k] = 0
            count += 1
            k += 1
        }
        // Steady state.
        count += n - k
        if let inBase = input.baseAddress, let outBase = output.baseAddress,
           n - k >= Self.speculativeMinimumLength(nsta: staSampleCount, nlta: nlta),
           !STALTAMemory.overlaps(inBase, outBase, count: n)
        {
            // Long block: lane-parallel with exact verification (see speculativeSteadyState).
            Self.speculativeSteadyState(input: inBase, output: outBase, range: k..<n,
                                        warmUp: Self.speculativeWarmUp(nsta: staSampleCount, nlta: nlta),
                                        coefficients: (cs, ds, cl, dl), sta: &sta, lta: &lta)
            k = n
        }
        while k < n {
            let x = input[k]
            let square = x * x
            sta = cs * square + ds * sta
            lta = cl * square + dl * lta
            output[k] = sta / lta
            k += 1
        }
        self.sta = sta
        self.lta = lta
        self.processedSampleCount = count
    }
}
