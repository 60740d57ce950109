internal import Foundation

/// Finds and repairs non-seismic transients in a window of raw samples: single- or two-sample
/// **spikes** (telemetry bit errors), **steps** (level shifts: calibration-pulse edges, mass
/// re-centring, offset jumps), **dropouts** (runs of one repeated value: zero-fill, held value),
/// and **clipping** (samples at/over the digitizer's full scale, or flat-topped runs far from the
/// noise level).
///
/// The detector is used by ``GlitchRejectingPicker`` when a trigger is declared: it inspects the
/// window around the trigger, and if it finds glitches the window is repaired and the trigger is
/// re-evaluated on the repaired data. It only looks at samples, so the rules are stated in units of
/// the window's own **noise**: `σΔ` = robust standard deviation of the first differences of the
/// noise part (1.4826 × median absolute first difference), `σ` = robust standard deviation of the
/// noise part (1.4826 × MAD). The noise part is the window before the trigger minus a guard.
///
/// Rules (defaults in ``Configuration``):
/// - **Spike** of width `w ∈ {1, 2}` at `j`: both samples deviate from the straight line between
///   `x[j−1]` and `x[j+w]` by more than `spikeFactor·σΔ` in the same direction, the two neighbours
///   agree (`|x[j+w] − x[j−1]| < 0.25·min deviation`) and the deviation exceeds
///   `spikeContextFactor` × the largest first difference in the 10 samples on either side
///   (so a genuine high-frequency oscillation, whose neighbours move as much, is not a spike).
///   Repair: linear interpolation.
/// - **Step** at `j`: `|median(x[j..<j+L]) − median(x[j−L..<j])| > stepFactor·σ` with `L` =
///   `stepWindowSeconds`, and both sides quiet: robust std of each side about its median
///   `< stepQuietFactor·σ` (an earthquake onset raises the variance; a step does not).
///   Repair: the shift is subtracted from `x[j...]` (and, by the picker, from all later samples).
/// - **Dropout**: a run of at least `dropoutMinimumSamples` identical values, if the noise part is
///   not coarsely quantised (fewer than 20 % of its first differences are exactly 0).
///   Repair: the run is replaced by the median of the `L` samples before it.
/// - **Clipping**: a sample with `|raw| ≥ clipLevel` (if configured, e.g. `2^23` counts for a
///   24-bit digitizer, in raw counts before any offset removal), or a run of ≥ 3 identical values
///   more than `flatTopFactor·σ` away from the noise median (a flat top at an unknown rail).
///   Repair: as a dropout.
///
/// - Complexity: O(window · 10) for spikes, O(window) expected for the noise medians (median and σ
///   only computed when a run of ≥ 3 equal values or a step candidate needs them) and O(L) per
///   step candidate (quickselect), no state.
public enum GlitchDetector {
    /// The kinds of glitch.
    public enum Kind: String, Sendable, Equatable, Hashable, CaseIterable {
        case spike, step, dropout, clipping
    }

    /// One glitch: kind and the affected sample range (window indices). `shift` is the level
    /// change of a step (after − before), 0 otherwise.
    public struct Finding: Sendable, Equatable {
        public var kind: Kind
        public var range: Range<Int>
        public var shift: Double
        public init(kind: Kind, range: Range<Int>, shift: Double = 0) {
            self.kind = kind
            self.range = range
            self.shift = shift
        }
    }

    /// Detection thresholds (dimensionless multiples of the window's noise unless stated).
    public struct Configuration: Sendable, Equatable {
        /// Spike deviation in units of `σΔ` (default 15).
        public var spikeFactor: Double
        /// Spike deviation over the largest nearby first difference (default 4).
        public var spikeContextFactor: Double
        /// Step size in units of `σ` (default 15).
        public var stepFactor: Double
        /// Maximum robust std on either side of a step, in units of `σ` (default 3).
        public var stepQuietFactor: Double
        /// Level window on each side of a step, seconds (default 0.25 s).
        public var stepWindowSeconds: Double
        /// Minimum run of identical samples counted as a dropout (default 10).
        public var dropoutMinimumSamples: Int
        /// Full scale in raw units (e.g. 8_388_608 counts for 24 bits); nil = unknown (default 2^23).
        public var clipLevel: Double?
        /// Fraction of `clipLevel` at which a sample counts as clipped (default 0.99).
        public var clipFraction: Double
        /// Distance of a flat-topped run from the noise median, in units of `σ` (default 20).
        public var flatTopFactor: Double

        public init(spikeFactor: Double = 15, spikeContextFactor: Double = 4, stepFactor: Double = 15,
                    stepQuietFactor: Double = 3, stepWindowSeconds: Double = 0.25, dropoutMinimumSamples: Int = 10,
                    clipLevel: Double? = 8_388_608, clipFraction: Double = 0.99, flatTopFactor: Double = 20)
        {
            self.spikeFactor = spikeFactor
            self.spikeContextFactor = spikeContextFactor
            self.stepFactor = stepFactor
            self.stepQuietFactor = stepQuietFactor
            self.stepWindowSeconds = stepWindowSeconds
            self.dropoutMinimumSamples = dropoutMinimumSamples
            self.clipLevel = clipLevel
            self.clipFraction = clipFraction
            self.flatTopFactor = flatTopFactor
        }
    }

    /// Robust noise statistics of `x[noise]`: median, `σ` (1.4826·MAD), `σΔ` (1.4826·median|Δ|),
    /// and the fraction of zero first differences.
    static func noiseStatistics(_ x: UnsafeBufferPointer<Double>, _ noise: Range<Int>)
        -> (median: Double, sigma: Double, sigmaDiff: Double, zeroDiffFraction: Double)
    {
        var scratch = [Double](repeating: 0, count: noise.count)
        return scratch.withUnsafeMutableBufferPointer { noiseStatistics(x, noise, scratch: $0) }
    }

    /// ``noiseStatistics(_:_:)`` using `scratch` (`count >= noise.count`) as working storage: no
    /// allocation (except in the rare fallback of ``median(count:scratch:fill:)``).
    static func noiseStatistics(_ x: UnsafeBufferPointer<Double>, _ noise: Range<Int>,
                                scratch: UnsafeMutableBufferPointer<Double>)
        -> (median: Double, sigma: Double, sigmaDiff: Double, zeroDiffFraction: Double)
    {
        let level = noiseLevel(x, noise, scratch: scratch)
        let diff = noiseDifferences(x, noise, scratch: scratch)
        return (level.median, level.sigma, diff.sigmaDiff, diff.zeroDiffFraction)
    }

    /// Median and `σ` (1.4826·MAD) of `x[noise]`, medians taken in `scratch`.
    static func noiseLevel(_ x: UnsafeBufferPointer<Double>, _ noise: Range<Int>,
                           scratch: UnsafeMutableBufferPointer<Double>) -> (median: Double, sigma: Double)
    {
        let lo = noise.lowerBound
        let med = median(count: noise.count, scratch: scratch) { b in
            for k in b.indices { b[k] = x[lo + k] }
        }
        let sigma = 1.4826 * median(count: noise.count, scratch: scratch) { b in
            for k in b.indices { b[k] = abs(x[lo + k] - med) }
        }
        return (med, sigma)
    }

    /// `σΔ` (1.4826·median|Δ|) of `x[noise]` and the fraction of zero first differences, the
    /// median taken in `scratch`.
    static func noiseDifferences(_ x: UnsafeBufferPointer<Double>, _ noise: Range<Int>,
                                 scratch: UnsafeMutableBufferPointer<Double>)
        -> (sigmaDiff: Double, zeroDiffFraction: Double)
    {
        let lo = noise.lowerBound
        var zeros = 0
        for i in noise.dropFirst() where x[i] - x[i - 1] == 0 { zeros += 1 }
        let diffCount = max(noise.count - 1, 0)
        let sigmaDiff = 1.4826 * median(count: diffCount, scratch: scratch) { b in
            for k in b.indices { b[k] = abs(x[lo + k + 1] - x[lo + k]) }
        }
        return (sigmaDiff, diffCount == 0 ? 0 : Double(zeros) / Double(diffCount))
    }

    /// The median of the `count` values that `fill` writes into its argument (the first `count`
    /// elements of `scratch`, `scratch.count >= count`): bit-identical to ``median(_:)`` of an
    /// array holding the same values in the same order, without allocating. Selection reorders
    /// the scratch; in the rare fallback case (NaN, or a selected ±0) the values are written again
    /// in their original order and handed to ``median(_:)``, which then sorts them as before.
    @_spi(Testing) public static func median(count: Int, scratch: UnsafeMutableBufferPointer<Double>,
                                                   fill: (UnsafeMutableBufferPointer<Double>) -> Void) -> Double
    {
        guard count > 0 else { return 0 }
        let b = UnsafeMutableBufferPointer(rebasing: scratch[0..<count])
        fill(b)
        if let m = medianBySelection(b) { return m }
        fill(b)
        return median(Array(b))
    }

    /// Median of `v` (0 if empty): the middle element of the sorted values, or the mean of the two
    /// middle ones. Found by selection (quickselect, O(n) expected) instead of a full sort;
    /// the result is bit-identical to sorting (`v.sorted()`), because the selected order statistics
    /// have the same values as the sorted ones. The two cases where the sort's tie order could
    /// matter — NaN present, or a selected value of ±0 (equal but distinct bit patterns) — fall
    /// back to the sort.
    @_spi(Testing) public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        var work = v
        if let m = work.withUnsafeMutableBufferPointer({ medianBySelection($0) }) { return m }
        let s = v.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m])
    }

    /// Median by quickselect, reordering `a`; nil if `a` holds a NaN or a selected value is ±0.
    private static func medianBySelection(_ a: UnsafeMutableBufferPointer<Double>) -> Double? {
        let n = a.count
        for x in a where x.isNaN { return nil }
        let m = n / 2
        let upper = select(a, m)
        guard upper != 0 else { return nil }
        if n % 2 == 1 { return upper }
        // After selecting index m, a[0..<m] are the m smallest values: the lower middle is their maximum.
        var lower = a[0]
        for i in 1..<m where a[i] > lower { lower = a[i] }
        guard lower != 0 else { return nil }
        return 0.5 * (lower + upper)
    }

    /// Quickselect with branch-free partitions: reorders `a` so that `a[k]` is the value at index
    /// `k` of the sorted order, everything before it `≤ a[k]` and everything after it `≥ a[k]`.
    /// Values must not be NaN.
    ///
    /// Each round takes the median of the first, middle and last values of the active range as
    /// the pivot `p` and makes two Lomuto passes whose writes and index advance do not depend on
    /// a branch (noise samples compare to the pivot at random, so a branching partition
    /// mispredicts about every other element): the first moves the values `< p` to the front,
    /// the second moves the values `== p` right after them. The range then shrinks to the part
    /// holding `k`, or `k` falls among the values equal to `p`. The pivot is a value of the
    /// range, so each round removes at least one element.
    /// - Complexity: O(n) expected, O(n²) worst case (as any quickselect without a fallback).
    private static func select(_ a: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        // Raw pointer and the comparison's bit as the increment: keeps the loops free of
        // branches and overflow checks (the indices stay inside `0..<a.count`).
        guard let b = a.baseAddress, k >= 0, k < a.count else { return .nan }
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let x = b[lo], y = b[lo + (hi - lo) / 2], z = b[hi]
            let p = max(min(x, y), min(max(x, y), z))
            // b[lo..<less] < p ≤ b[less..<i]
            var less = lo, i = lo
            while i <= hi {
                let v = b[i]
                let isLess = Int(unsafeBitCast(v < p, to: UInt8.self))
                b[i] = b[less]
                b[less] = v
                less &+= isLess
                i &+= 1
            }
            if k < less {
                hi = less - 1
                continue
            }
            if less > lo {
                lo = less
                continue
            }
            // Nothing was < p (p is the range's minimum): split off the values == p so the range
            // shrinks. b[less..<equal] == p < b[equal..<i] (every value here is ≥ p)
            var equal = less
            i = less
            while i <= hi {
                let v = b[i]
                let isEqual = Int(unsafeBitCast(v <= p, to: UInt8.self))
                b[i] = b[equal]
                b[equal] = v
                equal &+= isEqual
                i &+= 1
            }
            if k < equal { return b[k] }
            lo = equal
        }
        return b[k]
    }

    /// Finds glitches in `x[search]` (chain input, e.g. offset-removed samples) using `x[noise]` as
    /// the noise reference; `raw` (same indexing, original values) is used for the clip level.
    public static func findGlitches(in x: UnsafeBufferPointer<Double>, raw: UnsafeBufferPointer<Double>,
                                    noise: Range<Int>, search: Range<Int>, samplingRateHz fs: Double,
                                    configuration c: Configuration) -> [Finding]
    {
        var scratch = [Double](repeating: 0, count: x.count)
        return scratch.withUnsafeMutableBufferPointer {
            findGlitches(in: x, raw: raw, noise: noise, search: search, samplingRateHz: fs, configuration: c, scratch: $0)
        }
    }

    /// ``findGlitches(in:raw:noise:search:samplingRateHz:configuration:)`` with `scratch`
    /// (`count >= x.count`) as working storage for the medians: allocates nothing when no glitch
    /// is found (the findings array only when there are findings).
    static func findGlitches(in x: UnsafeBufferPointer<Double>, raw: UnsafeBufferPointer<Double>,
                             noise: Range<Int>, search: Range<Int>, samplingRateHz fs: Double,
                             configuration c: Configuration, scratch: UnsafeMutableBufferPointer<Double>) -> [Finding]
    {
        let n = x.count
        precondition(scratch.count >= n, "GlitchDetector.findGlitches: scratch shorter than the window")
        guard noise.count >= 10, noise.lowerBound >= 0, noise.upperBound <= n else { return [] }
        let search = max(search.lowerBound, 1)..<min(search.upperBound, n)
        guard !search.isEmpty else { return [] }
        let tiny = Double.leastNormalMagnitude
        let diffStats = noiseDifferences(x, noise, scratch: scratch)
        let sigmaDiff = max(diffStats.sigmaDiff, tiny)
        // The noise median and σ (two more medians) are only needed for runs of ≥ 3 equal values
        // and for step candidates, which most windows do not have: computed on first use.
        var levelStats: (median: Double, sigma: Double)?
        func level() -> (median: Double, sigma: Double) {
            if let l = levelStats { return l }
            let l = noiseLevel(x, noise, scratch: scratch)
            let result = (l.median, max(l.sigma, tiny))
            levelStats = result
            return result
        }
        var findings: [Finding] = []
        func overlapsFound(_ r: Range<Int>) -> Bool { findings.contains { $0.range.overlaps(r) } }

        // Clipping at a known full scale (raw units).
        if let clip = c.clipLevel {
            let level = clip * c.clipFraction
            var i = search.lowerBound
            while i < search.upperBound {
                if abs(raw[i]) >= level {
                    var j = i
                    while j + 1 < search.upperBound, abs(raw[j + 1]) >= level { j += 1 }
                    findings.append(Finding(kind: .clipping, range: i..<(j + 1)))
                    i = j + 1
                } else {
                    i += 1
                }
            }
        }
        // Runs of identical values: dropouts, or flat tops (clipping at an unknown rail).
        do {
            var i = search.lowerBound
            while i < search.upperBound {
                var j = i
                while j + 1 < search.upperBound, x[j + 1] == x[i] { j += 1 }
                let len = j - i + 1
                let r = i..<(j + 1)
                if !overlapsFound(r) {
                    if len >= 3, abs(x[i] - level().median) > c.flatTopFactor * level().sigma {
                        findings.append(Finding(kind: .clipping, range: r))
                    } else if len >= c.dropoutMinimumSamples, diffStats.zeroDiffFraction < 0.2 {
                        findings.append(Finding(kind: .dropout, range: r))
                    }
                }
                i = j + 1
            }
        }
        // Spikes of width 1 or 2.
        for j in search where j >= 1 {
            for w in 1...2 where j + w < n {
                let r = j..<(j + w)
                if overlapsFound(r) { continue }
                let a = x[j - 1], b = x[j + w]
                var minDev = Double.infinity
                var sign = 0.0
                var ok = true
                for k in 0..<w {
                    let line = a + (b - a) * Double(k + 1) / Double(w + 1)
                    let d = x[j + k] - line
                    if sign == 0 { sign = d < 0 ? -1 : 1 } else if d * sign <= 0 { ok = false }
                    minDev = min(minDev, abs(d))
                }
                guard ok, minDev > c.spikeFactor * sigmaDiff, abs(b - a) < 0.25 * minDev else { continue }
                // Context: largest first difference nearby, excluding the spike's own edges.
                var ctx = 0.0
                let lo = max(1, j - 10), hi = min(n - 1, j + w + 10)
                for k in lo...hi where k < j || k > j + w {
                    ctx = max(ctx, abs(x[k] - x[k - 1]))
                }
                if minDev > c.spikeContextFactor * ctx {
                    findings.append(Finding(kind: .spike, range: r))
                    break
                }
            }
        }
        // Steps: candidates at large first differences.
        let half = max(3, Int((c.stepWindowSeconds * fs).rounded()))
        var lastStep = -half
        for j in search where j - lastStep >= half {
            guard abs(x[j] - x[j - 1]) > c.stepFactor * sigmaDiff else { continue }
            let pre = max(0, j - half)..<j
            let post = j..<min(n, j + half)
            guard pre.count >= 3, post.count >= 3 else { continue }
            let m1 = median(count: pre.count, scratch: scratch) { b in for k in b.indices { b[k] = x[pre.lowerBound + k] } }
            let m2 = median(count: post.count, scratch: scratch) { b in for k in b.indices { b[k] = x[post.lowerBound + k] } }
            let shift = m2 - m1
            let sigma = level().sigma
            guard abs(shift) > c.stepFactor * sigma else { continue }
            let s1 = 1.4826 * median(count: pre.count, scratch: scratch) { b in
                for k in b.indices { b[k] = abs(x[pre.lowerBound + k] - m1) }
            }
            let s2 = 1.4826 * median(count: post.count, scratch: scratch) { b in
                for k in b.indices { b[k] = abs(x[post.lowerBound + k] - m2) }
            }
            guard s1 < c.stepQuietFactor * sigma, s2 < c.stepQuietFactor * sigma else { continue }
            // Edges of runs (clipping, dropouts) and spikes are not steps: their levels are not
            // representative; those findings are repaired on their own.
            if overlapsFound(pre.lowerBound..<post.upperBound) { continue }
            findings.append(Finding(kind: .step, range: j..<(j + 1), shift: shift))
            lastStep = j
        }
        return findings.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// The step shifts of `findings` in the order ``repair(_:findings:samplingRateHz:configuration:)``
    /// subtracts them (by start index).
    public static func stepShiftsInRepairOrder(_ findings: [Finding]) -> [Double] {
        findings.sorted { $0.range.lowerBound < $1.range.lowerBound }.filter { $0.kind == .step }.map(\.shift)
    }

    /// Repairs `x` in place for `findings` (see the type documentation); returns the total level
    /// shift removed by steps (to be subtracted from later samples as well, one shift at a time
    /// in ``stepShiftsInRepairOrder(_:)`` order for bit-identical results).
    @discardableResult
    public static func repair(_ x: UnsafeMutableBufferPointer<Double>, findings: [Finding], samplingRateHz fs: Double,
                              configuration c: Configuration) -> Double
    {
        let half = max(3, Int((c.stepWindowSeconds * fs).rounded()))
        var totalShift = 0.0
        for f in findings.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            let r = f.range.clamped(to: 0..<x.count)
            guard !r.isEmpty else { continue }
            switch f.kind {
            case .spike:
                let a = r.lowerBound > 0 ? x[r.lowerBound - 1] : (r.upperBound < x.count ? x[r.upperBound] : 0)
                let b = r.upperBound < x.count ? x[r.upperBound] : a
                for (k, i) in r.enumerated() { x[i] = a + (b - a) * Double(k + 1) / Double(r.count + 1) }
            case .step:
                for i in r.lowerBound..<x.count { x[i] -= f.shift }
                totalShift += f.shift
            case .dropout, .clipping:
                let pre = max(0, r.lowerBound - half)..<r.lowerBound
                let level = pre.isEmpty ? 0 : median(Array(x[pre]))
                for i in r { x[i] = level }
            }
        }
        return totalShift
    }
}
