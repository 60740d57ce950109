// Lane-parallel steady state of the recursive STA/LTA for long blocks, bit-identical to the
// serial recursion (speculate, then verify exactly).

/// The recursive STA/LTA is a serial recurrence: every sample waits for the previous one's
/// multiply and add (`sta = c·x² + (1−c)·sta`, no FMA, to stay bit-identical to ObsPy), about
/// 6 cycles per sample on current x86 cores, and ObsPy's C loop already runs at that bound.
/// The recurrences forget geometrically, though: after `W` samples, two runs started from
/// different states differ by a factor `(1 − 1/n)^W` of their initial difference, and with
/// `W ≥ 45 n` that is below one rounding unit, after which the rounded recurrences coalesce and
/// stay bit-identical forever (they are deterministic functions of the same inputs).
///
/// So a long block is cut into 4 segments processed in lock-step in the lanes of a
/// `SIMD4<Double>` (4 independent dependency chains instead of 1). Lane 0 starts from the true
/// state; lane `j ≥ 1` starts `W` samples before its segment from the state 0, and its state at
/// the segment start is then **compared bit for bit** with the true state (lane `j − 1`'s final
/// state). If they differ (it has not happened on any data tried, but it is allowed), segment
/// `j` is recomputed serially from the true state. The output is therefore always bit-identical
/// to the serial recursion, whatever the data; only the speed depends on the coalescence.
/// The divisions `sta / lta` of the 4 lanes are one vector division (IEEE division is correctly
/// rounded, so vector and scalar give the same bits); the results are scattered to the 4 output
/// segments in a second pass over each 32-step block.
///
/// - Complexity: O(n + 3W) operations for a block of n samples; no heap allocation (1 KiB of
///   stack scratch).
extension RecursiveSTALTA {
    /// Steps per block of the lock-step loop: 32 SIMD4 results = 1 KiB of scratch, the most that
    /// `withUnsafeTemporaryAllocation` keeps on the stack (128 was ≈ 10 % faster but allocated).
    static let parallelBlock = 32

    /// Warm-up of the speculative lanes: ≥ 48 time constants of the slower average, rounded up
    /// to a whole number of blocks. 48 n samples shrink an initial difference by
    /// `e^-48 ≈ 1.4e-21`, well below the 2^-53 rounding unit.
    static func speculativeWarmUp(nsta: Int, nlta: Int) -> Int {
        let w = 48 * max(nsta, nlta)
        return (w + parallelBlock - 1) / parallelBlock * parallelBlock
    }

    /// Shortest steady-state block for which the lane-parallel path is used: each segment must
    /// be ≥ 4 W long so that the redundant warm-up costs ≤ 25 % of a lane.
    static func speculativeMinimumLength(nsta: Int, nlta: Int) -> Int {
        let w = speculativeWarmUp(nsta: nsta, nlta: nlta)
        return 17 * w
    }

    /// Processes `range` (steady state: every output is `sta / lta`) from the state `sta`, `lta`,
    /// writing `output[range]` and leaving the state after the last sample. `input` and `output`
    /// must not overlap. Returns the number of segments that had to be recomputed serially.
    @discardableResult
    static func speculativeSteadyState(input: UnsafePointer<Double>, output: UnsafeMutablePointer<Double>,
                                       range: Range<Int>, warmUp: Int,
                                       coefficients: (cs: Double, ds: Double, cl: Double, dl: Double),
                                       sta: inout Double, lta: inout Double) -> Int
    {
        let (cs, ds, cl, dl) = coefficients
        let lanes = 4
        let block = parallelBlock
        let w = max(block, (warmUp + block - 1) / block * block)
        let k0 = range.lowerBound
        let segment = (range.count - w) / lanes
        guard segment >= w else {
            serialSteadyState(input: input, output: output, range: range, coefficients: coefficients, sta: &sta, lta: &lta)
            return 0
        }
        let steps = segment + w
        let vcs = SIMD4<Double>(repeating: cs), vds = SIMD4<Double>(repeating: ds)
        let vcl = SIMD4<Double>(repeating: cl), vdl = SIMD4<Double>(repeating: dl)
        var vsta = SIMD4<Double>(sta, 0, 0, 0)
        var vlta = SIMD4<Double>(lta, 0, 0, 0)
        var checkSta = vsta, checkLta = vlta
        let p0 = input + k0, p1 = p0 + segment, p2 = p1 + segment, p3 = p2 + segment
        withUnsafeTemporaryAllocation(of: SIMD4<Double>.self, capacity: block) { scratch in
            guard let r = scratch.baseAddress else { return }
            var t0 = 0
            while t0 < steps {
                let t1 = min(t0 + block, steps)
                // Lock-step recurrences and the 4 divisions as one vector operation (kept as a
                // vector by storing it whole; the lanes are scattered in a second, cheap pass).
                var i = 0
                for t in t0..<t1 {
                    let x = SIMD4<Double>(p0[t], p1[t], p2[t], p3[t])
                    let square = x * x
                    vsta = vcs * square + vds * vsta
                    vlta = vcl * square + vdl * vlta
                    r[i] = vsta / vlta
                    i += 1
                }
                // Scatter: lane 0 always; lanes ≥ 1 once past their warm-up.
                let o0 = output + k0 + t0
                if t0 >= w {
                    let o1 = o0 + segment, o2 = o1 + segment, o3 = o2 + segment
                    for j in 0..<(t1 - t0) {
                        let v = r[j]
                        o0[j] = v[0]
                        o1[j] = v[1]
                        o2[j] = v[2]
                        o3[j] = v[3]
                    }
                } else {
                    for j in 0..<(t1 - t0) { o0[j] = r[j][0] }
                }
                t0 = t1
                if t0 == w {
                    checkSta = vsta
                    checkLta = vlta
                }
            }
        }
        // Verify the speculation lane by lane, in order: lane j's state at its segment start must
        // equal lane j−1's final state, bit for bit.
        var fallbacks = 0
        var trueSta = vsta[0], trueLta = vlta[0]
        for lane in 1..<lanes {
            if checkSta[lane].bitPattern == trueSta.bitPattern, checkLta[lane].bitPattern == trueLta.bitPattern {
                trueSta = vsta[lane]
                trueLta = vlta[lane]
            } else {
                fallbacks += 1
                let start = k0 + lane * segment + w
                serialSteadyState(input: input, output: output, range: start..<(start + segment),
                                  coefficients: coefficients, sta: &trueSta, lta: &trueLta)
            }
        }
        let done = k0 + lanes * segment + w
        serialSteadyState(input: input, output: output, range: done..<range.upperBound,
                          coefficients: coefficients, sta: &trueSta, lta: &trueLta)
        sta = trueSta
        lta = trueLta
        return fallbacks
    }

    /// The plain serial steady-state recursion over `range`.
    static func serialSteadyState(input: UnsafePointer<Double>, output: UnsafeMutablePointer<Double>,
                                  range: Range<Int>,
                                  coefficients: (cs: Double, ds: Double, cl: Double, dl: Double),
                                  sta: inout Double, lta: inout Double)
    {
        let (cs, ds, cl, dl) = coefficients
        var s = sta, l = lta
        for k in range {
            let x = input[k]
            let square = x * x
            s = cs * square + ds * s
            l = cl * square + dl * l
            output[k] = s / l
        }
        sta = s
        lta = l
    }
}

/// Memory-range helpers for the block fast paths.
enum STALTAMemory {
    /// Whether `count` doubles at `a` and at `b` share any memory (in-place processing).
    static func overlaps(_ a: UnsafePointer<Double>, _ b: UnsafeMutablePointer<Double>, count: Int) -> Bool {
        let x = UInt(bitPattern: a), y = UInt(bitPattern: UnsafePointer(b))
        let bytes = UInt(count) &* UInt(MemoryLayout<Double>.stride)
        return x < y &+ bytes && y < x &+ bytes
    }
}
