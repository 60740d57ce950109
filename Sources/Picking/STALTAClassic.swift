// Classic (box-window) STA/LTA with ObsPy's exact running-sum numerics.

/// Classic STA/LTA: the ratio of the mean signal power in a short window to the mean power in a
/// long window, both ending at the current sample (Allen 1978; ObsPy `classic_sta_lta`).
///
/// ```
/// S_i  = Σ_{j=i-nsta+1 … i} x_j²          L_i = Σ_{j=i-nlta+1 … i} x_j²
/// cf_i = (S_i / L_i) · (nlta / nsta)      for i ≥ nlta − 1   (mean power / mean power)
/// cf_i = 0                                for i < nlta − 1   (warm-up)
/// ```
/// The LTA window contains the STA window. Input: any unit (counts, m/s², …); output:
/// dimensionless. Latency: 0 samples (causal, one output per input sample). Warm-up: the first
/// `nlta − 1` outputs are exactly 0, as in ObsPy (`src/stalta.c` zeroes them without saying so).
///
/// **Numerics.** In the default ``Summation/runningSums`` mode the sums are updated exactly as in
/// ObsPy 1.5's C code (`obspy/signal/src/stalta.c`, `OPTIMIZED_VERSION`), operation by operation:
/// - samples `0 ..< nsta`: `S += x²`; then `L = S`;
/// - samples `nsta ..< nlta`: `L += x_i²`, `S += (x_i² − x_{i−nsta}²)`;
/// - samples `≥ nlta`: `S += (x_i² − x_{i−nsta}²)`, `L += (x_i² − x_{i−nlta}²)`;
/// - `cf = S / L · (nlta / nsta)`.
/// The output is therefore bit-identical to `classic_sta_lta` (verified on the 24 reference
/// traces by `scripts/dev/stalta_compare_obspy.py`).
///
/// **Drift on long streams.** Running sums never forget a rounding error: after a spike of
/// amplitude A has left both windows, the sums still carry residues of order `A² · 2⁻⁵³` per
/// update, and these random-walk over millions of samples. On a stream that runs for days with
/// large transients (clipped events, calibration pulses) the residue can become comparable to the
/// quiet-noise power, so the CF is wrong and `L` can even reach 0 or go negative. ObsPy processes
/// finite traces and does not care; a 24/7 picker should use ``Summation/resummed(everySamples:)``,
/// which recomputes both sums exactly from the stored window every `k` samples (amortised cost
/// `nlta / k` extra additions per sample), bounding the drift to `k` updates. That mode is not
/// bit-identical to ObsPy (it differs at the rounding level, ~1e-15 relative) but is just as
/// chunking-independent: the re-summation points depend only on the sample count.
///
/// Streaming: the last `nlta` squared samples are kept in a ring buffer allocated once in
/// `init`, so processing allocates nothing and any chunking gives bit-identical output. Within a
/// long block (running sums, input and output not overlapping) the samples leaving the windows
/// are re-read from the input past its first `nlta` samples (same squares, same bits) and two
/// ratios are divided as one vector; the ring is refilled at the end of the block.
///
/// - Complexity: O(1) per sample (plus O(nlta) every `k` samples when re-summing); memory O(nlta).
///
/// References: R. V. Allen (1978), "Automatic earthquake recognition and timing from single
/// traces", BSSA 68(5), 1521–1532; ObsPy `obspy.signal.trigger.classic_sta_lta` and
/// `src/stalta.c`; Trnkoczy (2012), NMSOP-2 IS 8.1.
public struct ClassicSTALTA: STALTACharacteristicFunction {
    /// How the window sums are maintained.
    public enum Summation: Sendable, Equatable, Hashable {
        /// ObsPy's running sums, bit-identical to `classic_sta_lta` (default). Rounding errors
        /// accumulate over very long streams; see the type's documentation.
        case runningSums
        /// Running sums, plus an exact re-summation of both windows from the stored squares
        /// every `everySamples` samples (counted from the first full LTA window).
        case resummed(everySamples: Int)
    }

    public let staSampleCount: Int
    public let ltaSampleCount: Int
    public let summation: Summation

    /// Largest accepted LTA window: 2^27 samples (1 GiB of stored squares; 15.5 days at
    /// 100 Hz). Longer windows are rejected instead of attempting the allocation.
    public static let maximumLTASampleCount = 1 << 27

    /// `nlta / nsta`, computed once as in ObsPy.
    private let ratioScale: Double
    /// 0 for ``Summation/runningSums``, else the re-summation interval.
    private let resumInterval: Int

    /// Squares of the last `nlta` samples; sample i lives at index `i mod nlta`.
    private var squares: [Double]
    /// Index in `squares` where the next sample goes (= processed mod nlta).
    private var writeIndex = 0
    /// Index in `squares` of the sample leaving the STA window (= (processed − nsta) mod nlta).
    private var staLeaveIndex = 0
    private var sta = 0.0
    private var lta = 0.0
    public private(set) var processedSampleCount = 0

    /// Samples 0 ..< nlta − 1 are warm-up (output 0).
    public var warmUpSampleCount: Int { ltaSampleCount - 1 }

    /// Creates the filter from window lengths in samples.
    ///
    /// - Parameters:
    ///   - staSampleCount: STA window `nsta`, in samples, ≥ 1.
    ///   - ltaSampleCount: LTA window `nlta`, in samples, ≥ `nsta`.
    ///   - summation: ``Summation/runningSums`` (ObsPy-exact, default) or periodic re-summation.
    /// - Throws: ``STALTAParameterError`` if a window is < 1 sample, `nsta > nlta`,
    ///   `nlta > maximumLTASampleCount`, or the re-summation interval is < 1.
    public init(staSampleCount: Int, ltaSampleCount: Int, summation: Summation = .runningSums)
        throws(STALTAParameterError)
    {
        guard staSampleCount >= 1 else { throw .nonPositiveWindow(parameter: "sta", samples: staSampleCount) }
        guard ltaSampleCount >= 1 else { throw .nonPositiveWindow(parameter: "lta", samples: ltaSampleCount) }
        guard staSampleCount <= ltaSampleCount else {
            throw .staLongerThanLTA(staSamples: staSampleCount, ltaSamples: ltaSampleCount)
        }
        guard ltaSampleCount <= Self.maximumLTASampleCount else {
            throw .windowTooLong(parameter: "lta", samples: ltaSampleCount, maximum: Self.maximumLTASampleCount)
        }
        switch summation {
        case .runningSums:
            resumInterval = 0
        case let .resummed(every):
            guard every >= 1 else { throw .nonPositiveWindow(parameter: "resummation interval", samples: every) }
            resumInterval = every
        }
        self.staSampleCount = staSampleCount
        self.ltaSampleCount = ltaSampleCount
        self.summation = summation
        self.ratioScale = Double(ltaSampleCount) / Double(staSampleCount)
        self.squares = [Double](repeating: 0, count: ltaSampleCount)
    }

    /// Creates the filter from window lengths in seconds, converted once to samples by rounding
    /// to nearest (`round(seconds × samplingRateHz)`).
    ///
    /// - Parameters:
    ///   - staSeconds: STA window in seconds. - ltaSeconds: LTA window in seconds.
    ///   - samplingRateHz: sampling rate of the input in Hz.
    public init(staSeconds: Double, ltaSeconds: Double, samplingRateHz: Double, summation: Summation = .runningSums)
        throws(STALTAParameterError)
    {
        let nsta = try STALTAWindows.samples(seconds: staSeconds, samplingRateHz: samplingRateHz, parameter: "sta")
        let nlta = try STALTAWindows.samples(seconds: ltaSeconds, samplingRateHz: samplingRateHz, parameter: "lta")
        try self.init(staSampleCount: nsta, ltaSampleCount: nlta, summation: summation)
    }

    public mutating func reset() {
        for i in squares.indices { squares[i] = 0 }
        writeIndex = 0
        staLeaveIndex = 0
        sta = 0
        lta = 0
        processedSampleCount = 0
    }

    /// - Complexity: O(input.count), no allocation.
    public mutating func process(_ input: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count >= input.count, "ClassicSTALTA.process: output buffer shorter than input")
        let nsta = staSampleCount
        let nlta = ltaSampleCount
        let scale = ratioScale
        let interval = resumInterval
        var sta = self.sta
        var lta = self.lta
        var count = processedSampleCount
        var write = writeIndex
        var leave = staLeaveIndex
        let n = input.count
        squares.withUnsafeMutableBufferPointer { ring in
            var k = 0
            // Start-up: samples 0 ..< nlta, with ObsPy's phase-dependent update order.
            while k < n, count < nlta {
                let x = input[k]
                let square = x * x
                if count < nsta {
                    sta += square
                    if count == nsta - 1 { lta = sta }
                } else {
                    lta += square
                    sta += square - ring[leave]
                }
                ring[write] = square
                write += 1
                if write == nlta { write = 0 }
                if count >= nsta {
                    leave += 1
                    if leave == nlta { leave = 0 }
                }
                if interval > 0, count == nlta - 1, interval == 1 {
                    Self.resum(ring: ring, newest: write, nsta: nsta, nlta: nlta, sta: &sta, lta: &lta)
                }
                output[k] = count >= nlta - 1 ? sta / lta * scale : 0
                count += 1
                k += 1
            }
            // Steady state, long block, ObsPy's running sums: once a full LTA window of this
            // block has been seen, the leaving samples are read from the input itself (their
            // squares recomputed, which gives the same bits as the stored ones) instead of the
            // ring, two samples per step with one vector division; the ring is refilled at the end.
            if interval == 0, n - k >= nlta + Self.blockFastPathMinimum, let inBase = input.baseAddress,
               let outBase = output.baseAddress, !STALTAMemory.overlaps(inBase, outBase, count: n)
            {
                let fastStart = max(k, nlta)
                let steadyStart = k
                // Ring-based steady state up to local index nlta.
                while k < fastStart {
                    let x = input[k]
                    let square = x * x
                    sta += square - ring[leave]
                    lta += square - ring[write]
                    ring[write] = square
                    write += 1
                    if write == nlta { write = 0 }
                    leave += 1
                    if leave == nlta { leave = 0 }
                    output[k] = sta / lta * scale
                    k += 1
                }
                Self.steadyStateFromInput(input: inBase, output: outBase, range: k..<n, nsta: nsta, nlta: nlta,
                                          scale: scale, sta: &sta, lta: &lta)
                count += n - steadyStart
                // Refill the ring with the squares of the block's last nlta samples: sample
                // with local index i lives at (write + i − fastStart) mod nlta.
                let offset = (n - nlta - k) % nlta  // k == fastStart; may be negative
                var index = (write + offset + nlta) % nlta
                for i in (n - nlta)..<n {
                    let x = input[i]
                    ring[index] = x * x
                    index += 1
                    if index == nlta { index = 0 }
                }
                write = index
                leave = (count - nsta) % nlta
                k = n
            }
            // Steady state: both windows full. Runs end at the next re-summation point, if any.
            while k < n {
                var runEnd = n
                var resumAtEnd = false
                if interval > 0 {
                    // Re-summation after the sample with (count − (nlta − 1)) mod interval == interval − 1.
                    let untilResum = interval - (count - (nlta - 1)) % interval  // ≥ 1 samples, last one re-sums
                    if k + untilResum <= n {
                        runEnd = k + untilResum
                        resumAtEnd = true
                    }
                }
                let start = k
                while k < runEnd {
                    let x = input[k]
                    let square = x * x
                    // With nsta == nlta both leaving samples are ring[write] == ring[leave].
                    sta += square - ring[leave]
                    lta += square - ring[write]
                    ring[write] = square
                    write += 1
                    if write == nlta { write = 0 }
                    leave += 1
                    if leave == nlta { leave = 0 }
                    output[k] = sta / lta * scale
                    k += 1
                }
                count += runEnd - start
                if resumAtEnd {
                    Self.resum(ring: ring, newest: write, nsta: nsta, nlta: nlta, sta: &sta, lta: &lta)
                    output[k - 1] = sta / lta * scale
                }
            }
        }
        self.sta = sta
        self.lta = lta
        self.processedSampleCount = count
        self.writeIndex = write
        self.staLeaveIndex = leave
    }

    /// Shortest steady-state stretch (beyond the first nlta samples of a block) for which the
    /// input-based fast path is used.
    static let blockFastPathMinimum = 64

    /// ObsPy's steady-state running sums over `range`, reading the samples leaving the windows
    /// from `input` (`range.lowerBound ≥ nlta`), two samples per step: the sums advance serially
    /// (one add per sample on each, the dependency chain), the two ratios are divided as one
    /// vector. Bit-identical to the scalar loop: every operation and its order are the same.
    private static func steadyStateFromInput(input: UnsafePointer<Double>, output: UnsafeMutablePointer<Double>,
                                             range: Range<Int>, nsta: Int, nlta: Int, scale: Double,
                                             sta: inout Double, lta: inout Double)
    {
        var s = sta, l = lta
        var i = range.lowerBound
        let end = range.upperBound
        let vscale = SIMD2<Double>(repeating: scale)
        let raw = UnsafeMutableRawPointer(output)
        while i &+ 1 < end {
            let a0 = input[i], a1 = input[i &+ 1]
            let s0 = input[i &- nsta], s1 = input[i &+ 1 &- nsta]
            let l0 = input[i &- nlta], l1 = input[i &+ 1 &- nlta]
            let q0 = a0 * a0, q1 = a1 * a1
            s += q0 - s0 * s0
            l += q0 - l0 * l0
            let sFirst = s, lFirst = l
            s += q1 - s1 * s1
            l += q1 - l1 * l1
            let ratio = SIMD2<Double>(sFirst, s) / SIMD2<Double>(lFirst, l) * vscale
            raw.storeBytes(of: ratio, toByteOffset: i &* 8, as: SIMD2<Double>.self)
            i &+= 2
        }
        if i < end {
            let a = input[i], o = input[i &- nsta], p = input[i &- nlta]
            let q = a * a
            s += q - o * o
            l += q - p * p
            output[i] = s / l * scale
        }
        sta = s
        lta = l
    }

    /// Recomputes both sums from the ring (oldest to newest, STA part last), called only when
    /// the ring holds a full LTA window. `newest` is the index just after the newest sample.
    private static func resum(ring: UnsafeMutableBufferPointer<Double>, newest: Int, nsta: Int, nlta: Int,
                              sta: inout Double, lta: inout Double)
    {
        var older = 0.0
        var index = newest  // oldest sample of the window
        for _ in 0..<(nlta - nsta) {
            older += ring[index]
            index += 1
            if index == nlta { index = 0 }
        }
        var recent = 0.0
        for _ in 0..<nsta {
            recent += ring[index]
            index += 1
            if index == nlta { index = 0 }
        }
        sta = recent
        lta = older + recent
    }
}
