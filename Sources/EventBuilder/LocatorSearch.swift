// The grid-search kernel of EventLocator.locate: the χ² misfit over a contiguous table of
// station terms, with early exit, and the nested grids. No heap allocation per node.

import SeismicCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One station's data terms in the local projection (see ``EventLocator`` for χ²).
struct LocatorTerm {
    /// Station position east/north of the projection origin, km.
    var x: Double
    var y: Double
    /// Pick time relative to the first arrival's, s.
    var time: Double
    var hasBackAzimuth: Bool
    var backAzimuthDegrees: Double
    /// 1/σ_φ², deg⁻².
    var backAzimuthWeight: Double
    var hasDistance: Bool
    var log10Distance: Double
    /// 1/σ_log10Δ².
    var distanceWeight: Double
    /// sin and cos of the back-azimuth (the unit vector towards it, east and north), for the
    /// lower bound of ``LocatorMisfit/completeChi2(_:_:timeTotal:limit:complete:)``; set by
    /// ``withBackAzimuthVector()``.
    var backAzimuthEast = 0.0
    var backAzimuthNorth = 0.0

    /// This term with ``backAzimuthEast`` and ``backAzimuthNorth`` set from ``backAzimuthDegrees``.
    func withBackAzimuthVector() -> LocatorTerm {
        var t = self
        let a = backAzimuthDegrees * .pi / 180
        t.backAzimuthEast = sin(a)
        t.backAzimuthNorth = cos(a)
        return t
    }
}

/// χ²(x, y) of ``EventLocator``: the arrival-time term with the origin time eliminated (mean
/// residual), plus back-azimuth and log-distance terms.
///
/// Every term is ≥ 0, so a partial sum that already exceeds the best χ² found so far proves the
/// node cannot be the minimum: ``chi2(_:_:limit:)`` returns as soon as the running total exceeds
/// `limit`, after the cheap time terms (two square roots for two stations) and before the
/// `atan2`/`log10` of the others. Over a ±300 km grid most nodes are far off the arrival-time
/// hyperbola (a 1 s mismatch costs χ² = 200 with σ_t = 50 ms) and stop there.
struct LocatorMisfit {
    let terms: UnsafeBufferPointer<LocatorTerm>
    /// Scratch: predicted travel times at the node being evaluated.
    let travel: UnsafeMutableBufferPointer<Double>
    let depthSquared: Double
    let velocity: Double
    let pickVariance: Double

    /// Writes the predicted P travel times at (x, y) km into ``travel`` and returns
    /// Σ (observed − predicted), the input of ``timeChi2(sumT:)``.
    @inline(__always)
    func fillTravelTimes(_ x: Double, _ y: Double) -> Double {
        let n = terms.count
        var sumT = 0.0
        for i in 0..<n {
            let dx = x - terms[i].x, dy = y - terms[i].y
            let t = (dx * dx + dy * dy + depthSquared).squareRoot() / velocity
            travel[i] = t
            sumT += terms[i].time - t
        }
        return sumT
    }

    /// The arrival-time part of χ² at (x, y): ``timeChi2(sumT:)`` of ``fillTravelTimes(_:_:)``.
    ///
    /// Two stations (the usual network): the same operations in the same order, lane by lane
    /// with one station per `SIMD2` lane (IEEE square root, division, products and sums are
    /// exact per lane, so the value is bit-identical), which halves the square roots and
    /// divisions that bound the fine and pattern grids; ``travel`` is not written then (only
    /// ``timeChi2(sumT:)`` reads it).
    @inline(__always)
    func timeTotal(_ x: Double, _ y: Double) -> Double {
        guard terms.count == 2 else { return timeChi2(sumT: fillTravelTimes(x, y)) }
        let a = terms[0], b = terms[1]
        let dx = SIMD2(x - a.x, x - b.x), dy = SIMD2(y - a.y, y - b.y)
        let t = (dx * dx + dy * dy + SIMD2(repeating: depthSquared)).squareRoot() / SIMD2(repeating: velocity)
        let d = SIMD2(a.time, b.time) - t
        // fillTravelTimes: sumT = 0; sumT += time_i − T_i (station order).
        let sumT = (0.0 + d[0]) + d[1]
        // timeChi2: t0 = sumT / n; total = 0; total += (time_i − T_i − t0)² / σ_t².
        let r = d - SIMD2(repeating: sumT / 2)
        let q = r * r / SIMD2(repeating: pickVariance)
        return (0.0 + q[0]) + q[1]
    }

    /// χ² at (x, y) km, or any value > `limit` once the partial sum exceeds it.
    @inline(__always)
    func chi2(_ x: Double, _ y: Double, limit: Double = .infinity) -> Double {
        completeChi2(x, y, timeTotal: timeTotal(x, y), limit: limit)
    }

    /// The arrival-time part of χ² from the travel times in ``travel`` and their sum
    /// `sumT = Σ (t_i − T_i)` (accumulated in station order, as ``chi2(_:_:limit:)`` does).
    @inline(__always)
    func timeChi2(sumT: Double) -> Double {
        let n = terms.count
        let t0 = sumT / Double(n)
        var total = 0.0
        for i in 0..<n {
            let r = terms[i].time - travel[i] - t0
            total += r * r / pickVariance
        }
        return total
    }

    /// χ² at (x, y) from its arrival-time part `total`: adds the back-azimuth and distance terms
    /// with the early exit of ``chi2(_:_:limit:)`` (the same operations in the same order, so the
    /// result is bit-identical to it).
    @inline(__always)
    func completeChi2(_ x: Double, _ y: Double, timeTotal: Double, limit: Double) -> Double {
        var complete = false
        return completeChi2(x, y, timeTotal: timeTotal, limit: limit, complete: &complete)
    }

    /// The same, setting `complete` when the value returned is the complete χ² (no early exit
    /// before the last term; an exit after it still returns the complete value).
    @inline(__always)
    func completeChi2(_ x: Double, _ y: Double, timeTotal: Double, limit: Double, complete: inout Bool) -> Double {
        var total = timeTotal
        complete = false
        if total > limit { return total }
        for i in 0..<terms.count {
            let term = terms[i]
            guard term.hasBackAzimuth || term.hasDistance else { continue }
            let dx = x - term.x, dy = y - term.y
            if term.hasBackAzimuth {
                // Lower bound first, to skip the atan2 of a node that the back-azimuth term alone
                // takes above the limit: with u the back-azimuth's unit vector and d = (dx, dy),
                // |sin(φ − φ(x))| = |u × d| / |d|, and |angle| ≥ |sin(angle)| (radians) for any
                // angle in [−π, π]. The computed |dphi| below differs from the true angle by
                // < 1e-12°, the bound's own rounding by < 1e-14 relative; the bound is shrunk by
                // 1e-9 relative and 1e-9° absolute, so it is ≤ the computed |dphi|. Rounding is
                // monotone, so χ² with the bound > limit implies χ² with dphi (plus the
                // distance term ≥ 0) > limit: the node exits at this station either way, and
                // the value returned is > limit as the early exit requires.
                let d2 = dx * dx + dy * dy
                if d2 > 1e-12 {
                    let cross = term.backAzimuthEast * dy - term.backAzimuthNorth * dx
                    let lower = (cross * cross / d2).squareRoot() * (180 / .pi) * (1 - 1e-9) - 1e-9
                    if lower > 0 {
                        let bounded = total + lower * lower * term.backAzimuthWeight
                        if bounded > limit { return bounded }
                    }
                }
                let dphi = Self.angleDifference(term.backAzimuthDegrees, atan2(dx, dy) * 180 / .pi)
                total += dphi * dphi * term.backAzimuthWeight
            }
            if term.hasDistance {
                let rd = term.log10Distance - log10(max((dx * dx + dy * dy).squareRoot(), 1e-3))
                total += rd * rd * term.distanceWeight
            }
            if total > limit {
                complete = i == terms.count - 1
                return total
            }
        }
        complete = true
        return total
    }

    /// χ² at (x, y) with the early exit of ``chi2(_:_:limit:)``, and whether the value is complete.
    @inline(__always)
    func chi2(_ x: Double, _ y: Double, limit: Double, complete: inout Bool) -> Double {
        completeChi2(x, y, timeTotal: timeTotal(x, y), limit: limit, complete: &complete)
    }

    /// ``search(cx:cy:half:step:bound:histogram:)`` of the grid centred on (0, 0) with the travel
    /// times read from `tables` (one ``LocatorTravelTimeTable`` per station, in term order, built
    /// for this grid's `k` and `step`) instead of computed: the same χ² values bit for bit (the
    /// tables hold the same expression), hence the same best node, without the square roots
    /// and divisions of the travel times.
    ///
    /// Screen: before the exact arrival-time χ² (n divisions by σ_t²) a node is dropped when
    /// `χ²_approx · (1 − 10⁻¹²) > best`, with `χ²_approx` the same sum multiplied by 1/σ_t². Each
    /// product differs from its quotient by ≤ 2 ulp, so `χ²_approx` is within (n + 2)·2⁻⁵² of the
    /// exact value (relative, all terms ≥ 0; < 10⁻¹² for n ≤ 1000): a dropped node has an exact
    /// time χ² above `best`, i.e. it is one `search` also stops after the time terms and does
    /// not take. Everything else runs the loop of `search`.
    ///
    /// `candidates` (per event, across updates; see ``LocatorCoarseCandidates``): when it was
    /// collected for these station terms (positions and arrival times, bit for bit), h, Vp, σ_t
    /// and grid, and `bound` ≤ its threshold, only its nodes are visited (in row-major order, the
    /// steps of `visit` after its screen, from their recorded exact time χ²: the screen only drops
    /// nodes that the test after it drops too); otherwise every node is, and the nodes whose screen
    /// value `χ²_approx · (1 − 10⁻¹²)` is ≤ `2·bound + 10` are collected into it with their exact
    /// time χ² (when `bound` is finite).
    /// Exact: the result of the scan is the first node (row-major) with the smallest complete χ²
    /// (the argument of ``search(cx:cy:half:step:bound:histogram:memo:)``: a node visited before
    /// it only ever holds `best` with a value above it, one visited after it never replaces it),
    /// whatever other nodes are skipped; that node has `χ²_approx · (1 − 10⁻¹²)` ≤ its exact time
    /// χ² ≤ its χ² ≤ `bound` ≤ the threshold, so it is a candidate.
    func searchTabulated(k: Int, step: Double, bound: Double, tables: UnsafePointer<UnsafePointer<Double>>,
                         candidates: UnsafeMutablePointer<LocatorCoarseCandidates>? = nil) -> SearchResult
    {
        let n = terms.count
        let width = 2 * k + 1
        let cx = 0.0, cy = 0.0
        let inverseVariance = 1 / pickVariance
        let screenFactor = 1 - 1e-12
        var best = Node(x: cx, y: cy, chi2: .infinity)
        var bestI = 0, bestJ = 0
        /// The node (i, j) as `search` treats it (after the screen); returns its screen value.
        @inline(__always)
        @discardableResult
        func visit(_ i: Int, _ j: Int, x: Double, row: Int) -> Double {
            var sumT = 0.0
            for s in 0..<n {
                let t = tables[s][row + j]
                travel[s] = t
                sumT += terms[s].time - t
            }
            // timeChi2(sumT:), split: the screen with products, then the exact sum.
            let t0 = sumT / Double(n)
            var approx = 0.0
            for s in 0..<n {
                let r = terms[s].time - travel[s] - t0
                approx += r * r * inverseVariance
            }
            let screen = approx * screenFactor
            if best.chi2 > 1e-200 && screen > best.chi2 { return screen }
            var timeTotal = 0.0
            for s in 0..<n {
                let r = terms[s].time - travel[s] - t0
                timeTotal += r * r / pickVariance
            }
            let limit = min(best.chi2, bound)
            // As in completeChi2's first test; `y` is only needed for the remaining terms.
            if timeTotal > limit && timeTotal >= best.chi2 { return screen }
            let y = cy + Double(j) * step
            let q = completeChi2(x, y, timeTotal: timeTotal, limit: limit)
            if q < best.chi2 {
                best = Node(x: x, y: y, chi2: q)
                bestI = i
                bestJ = j
            }
            return screen
        }
        func result() -> SearchResult {
            SearchResult(best: best, onEdge: abs(bestI) == k || abs(bestJ) == k, spread: .nan)
        }
        let keyMatches = candidates?.pointee.matches(terms, depthSquared: depthSquared, velocity: velocity,
                                                     pickVariance: pickVariance, k: k, step: step) ?? false
        if let candidates, keyMatches, bound <= candidates.pointee.threshold {
            candidates.pointee.reuses += 1
            let nodes = candidates.pointee.nodes, times = candidates.pointee.timeTotals
            for c in 0..<min(nodes.count, times.count) {
                // `visit` after its screen, with the recorded exact time χ².
                let timeTotal = times[c]
                let limit = min(best.chi2, bound)
                if timeTotal > limit && timeTotal >= best.chi2 { continue }
                let flat = Int(nodes[c])
                let i = flat / width - k, j = flat % width - k
                let x = cx + Double(i) * step, y = cy + Double(j) * step
                let q = completeChi2(x, y, timeTotal: timeTotal, limit: limit)
                if q < best.chi2 {
                    best = Node(x: x, y: y, chi2: q)
                    bestI = i
                    bestJ = j
                }
            }
            return result()
        }
        /// `visit`'s exact time χ² of the node at `row + j` (for collection).
        func exactTimeTotal(row: Int, j: Int) -> Double {
            var sumT = 0.0
            for s in 0..<n { sumT += terms[s].time - tables[s][row + j] }
            let t0 = sumT / Double(n)
            var timeTotal = 0.0
            for s in 0..<n {
                let r = terms[s].time - tables[s][row + j] - t0
                timeTotal += r * r / pickVariance
            }
            return timeTotal
        }
        // Collect the candidates during the scan (when there is a finite bound to collect for).
        let threshold = 2 * bound + 10
        let collect = candidates != nil && bound.isFinite
        var collected: [Int32] = [], collectedTimes: [Double] = []
        if collect {
            collected.reserveCapacity(512)
            collectedTimes.reserveCapacity(512)
        }
        // Two stations (the usual case): the screen for two nodes at once, lane by lane the same
        // operations in the same order as `visit`'s (IEEE arithmetic is exact per lane), against
        // the best χ² before the pair (≥ the one after the first node, so a dropped node stays
        // dropped); a node that passes goes through `visit`.
        let time0 = terms[0].time, time1 = n == 2 ? terms[1].time : 0
        for i in -k...k {
            let x = cx + Double(i) * step
            let row = (i + k) * width + k
            var j = -k
            if n == 2 {
                let a = tables[0] + row, b = tables[1] + row
                while j < k {
                    let t0a = SIMD2(a[j], a[j + 1]), t1a = SIMD2(b[j], b[j + 1])
                    let d0 = time0 - t0a, d1 = time1 - t1a
                    let sumT = (SIMD2<Double>(repeating: 0) + d0) + d1
                    let t0 = sumT / 2
                    let r0 = d0 - t0, r1 = d1 - t0
                    let approx = (SIMD2<Double>(repeating: 0) + r0 * r0 * inverseVariance) + r1 * r1 * inverseVariance
                    let screen = approx * screenFactor
                    let limit = best.chi2
                    if !(limit > 1e-200 && screen[0] > limit) { visit(i, j, x: x, row: row) }
                    if !(limit > 1e-200 && screen[1] > limit) { visit(i, j + 1, x: x, row: row) }
                    if collect && (screen[0] <= threshold || screen[1] <= threshold) {
                        // visit's exact time χ², lane by lane.
                        let exact = (SIMD2<Double>(repeating: 0) + r0 * r0 / pickVariance) + r1 * r1 / pickVariance
                        if screen[0] <= threshold {
                            collected.append(Int32(row + j))
                            collectedTimes.append(exact[0])
                        }
                        if screen[1] <= threshold {
                            collected.append(Int32(row + j + 1))
                            collectedTimes.append(exact[1])
                        }
                    }
                    j += 2
                }
            }
            while j <= k {
                let screen = visit(i, j, x: x, row: row)
                if collect && screen <= threshold {
                    collected.append(Int32(row + j))
                    collectedTimes.append(exactTimeTotal(row: row, j: j))
                }
                j += 1
            }
        }
        if let candidates, collect {
            if !keyMatches {
                candidates.pointee.setKey(terms, depthSquared: depthSquared, velocity: velocity,
                                          pickVariance: pickVariance, k: k, step: step)
            }
            candidates.pointee.threshold = threshold
            candidates.pointee.nodes = collected
            candidates.pointee.timeTotals = collectedTimes
        }
        return result()
    }

    /// ``Geodesy/angleDifference(_:_:)`` (a − b wrapped into (−180, 180]) with the same
    /// result, skipping its `fmod` when |a − b| < 360 (always, for a bearing in [0, 360) and an
    /// `atan2` in (−180, 180]), where `fmod(a − b, 360)` is exactly a − b.
    @inline(__always)
    static func angleDifference(_ a: Double, _ b: Double) -> Double {
        var d = a - b
        if !(abs(d) < 360) { d = fmod(d, 360) }
        if d > 180 { d -= 360 }
        if d <= -180 { d += 360 }
        return d
    }

    struct Node {
        var x: Double
        var y: Double
        var chi2: Double
    }

    /// Complete χ² values of the previous and the current grid of a re-centred walk (see
    /// ``search(cx:cy:half:step:bound:histogram:memo:)``).
    struct GridMemo {
        var previous: UnsafeMutablePointer<Double>?
        var current: UnsafeMutablePointer<Double>
        /// The previous grid's indices of this grid's centre.
        var shiftI: Int
        var shiftJ: Int
    }

    struct SearchResult {
        var best: Node
        var onEdge: Bool
        /// Radius about the best node holding 68 % of the posterior mass (NaN unless asked for).
        var spread: Double
        /// Grid indices of `best` from the centre (set by `search`).
        var bestI = 0
        var bestJ = 0
    }

    /// Evaluates a (2k+1)² grid centred on (cx, cy) (k = half/step) and returns its best node
    /// (row-major scan, ties keep the first node, as a full evaluation would), whether it lies
    /// on the grid's edge and, if `histogram` is given, the 68 %-mass radius: weights
    /// exp(−Δχ²/2) with a flat prior, nodes with Δχ² > 40 (weight < 2e-9) skipped — a second
    /// pass with `limit = best + 40`, so those nodes stop early too.
    ///
    /// `bound`, when known, is the complete χ² of one node of this grid (the centre, i.e. the
    /// previous level's minimum, or a seed node): the grid's minimum is ≤ it, so it bounds the
    /// early exit from the first node on.
    /// Nodes whose partial sum exceeds it cannot be the minimum; the minimum itself and every
    /// node tying with it are still evaluated completely, so the result is the same.
    ///
    /// `memo`: when given, the complete χ² of every node of this grid is recorded in
    /// `memo.current` (3 doubles per node, row-major: x, y, χ² or NaN when the node stopped early),
    /// and a node whose coordinates equal, bit for bit, those of a node recorded with a complete χ²
    /// in `memo.previous` (the grid this one was re-centred from, on its node (`shiftI`, `shiftJ`))
    /// takes that value instead of computing it. The best node is the same: it is the first node
    /// (row-major) with the smallest *complete* χ² ≤ `bound` (a node's partial sums only decide that
    /// it is not the minimum, and every node with a complete χ² ≤ the limit in force returns it
    /// exactly, all terms being ≥ 0), and a recorded value is that node's complete χ².
    ///
    /// Rows of two-station grids of at most ``maximumBatchedRowWidth`` nodes (the 1 km and pattern
    /// grids) take their arrival-time χ² from ``rowTimeTotals(x:cy:k:step:into:)``, computed for
    /// the whole row before the row is scanned: the same ``timeTotal(_:_:)`` of the same
    /// coordinates (the same bits), but independent of the early-exit branches, so the square
    /// roots and divisions of consecutive nodes overlap in the pipeline instead of waiting for
    /// each other (they bound these grids).
    func search(cx: Double, cy: Double, half: Double, step: Double, bound: Double = .infinity,
                histogram: UnsafeMutableBufferPointer<Double>? = nil, memo: GridMemo? = nil) -> SearchResult
    {
        let k = Int((half / step).rounded())
        let width = 2 * k + 1
        guard terms.count == 2, width <= Self.maximumBatchedRowWidth else {
            return search(cx: cx, cy: cy, half: half, k: k, step: step, bound: bound, histogram: histogram,
                          memo: memo, rowTimes: nil)
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { row in
            search(cx: cx, cy: cy, half: half, k: k, step: step, bound: bound, histogram: histogram, memo: memo,
                   rowTimes: row.baseAddress)
        }
    }

    /// Widest grid row whose arrival-time χ² ``search(cx:cy:half:step:bound:histogram:memo:)``
    /// batches (the 21-node rows of the 1 km grid).
    static let maximumBatchedRowWidth = 21

    /// ``timeTotal(_:_:)`` at the nodes `(x, cy + j·step)`, j = −k…k, into `out[j + k]`.
    @inline(__always)
    func rowTimeTotals(x: Double, cy: Double, k: Int, step: Double, into out: UnsafeMutablePointer<Double>) {
        for j in -k...k {
            out[j + k] = timeTotal(x, cy + Double(j) * step)
        }
    }

    /// ``search(cx:cy:half:step:bound:histogram:memo:)`` with k = half/step; `rowTimes`, when
    /// given (two stations), is scratch for one row's arrival-time χ² (nil: node by node).
    func search(cx: Double, cy: Double, half: Double, k: Int, step: Double, bound: Double,
                        histogram: UnsafeMutableBufferPointer<Double>?, memo: GridMemo?,
                        rowTimes: UnsafeMutablePointer<Double>?) -> SearchResult
    {
        let width = 2 * k + 1
        var best = Node(x: cx, y: cy, chi2: .infinity)
        var bestI = 0, bestJ = 0
        for i in -k...k {
            let x = cx + Double(i) * step
            if let rowTimes { rowTimeTotals(x: x, cy: cy, k: k, step: step, into: rowTimes) }
            for j in -k...k {
                let y = cy + Double(j) * step
                /// χ² with the early exit, from the batched time χ² when there is one.
                @inline(__always)
                func evaluate(limit: Double, complete: inout Bool) -> Double {
                    if let rowTimes {
                        return completeChi2(x, y, timeTotal: rowTimes[j + k], limit: limit, complete: &complete)
                    }
                    return chi2(x, y, limit: limit, complete: &complete)
                }
                let q: Double
                if let memo {
                    var complete = false
                    var recorded = Double.nan
                    if let previous = memo.previous {
                        let pi = i + memo.shiftI, pj = j + memo.shiftJ
                        if abs(pi) <= k, abs(pj) <= k {
                            let o = ((pi + k) * width + pj + k) * 3
                            if previous[o].bitPattern == x.bitPattern, previous[o + 1].bitPattern == y.bitPattern {
                                recorded = previous[o + 2]
                            }
                        }
                    }
                    if recorded.isNaN {
                        q = evaluate(limit: min(best.chi2, bound), complete: &complete)
                    } else {
                        q = recorded
                        complete = true
                    }
                    let o = ((i + k) * width + j + k) * 3
                    memo.current[o] = x
                    memo.current[o + 1] = y
                    memo.current[o + 2] = complete ? q : .nan
                } else {
                    var complete = false
                    q = evaluate(limit: min(best.chi2, bound), complete: &complete)
                }
                if q < best.chi2 {
                    best = Node(x: x, y: y, chi2: q)
                    bestI = i
                    bestJ = j
                }
            }
        }
        let onEdge = abs(bestI) == k || abs(bestJ) == k
        guard let histogram else {
            return SearchResult(best: best, onEdge: onEdge, spread: .nan, bestI: bestI, bestJ: bestJ)
        }
        let radius = spread(cx: cx, cy: cy, half: half, step: step, best: best, bestI: bestI, bestJ: bestJ,
                            histogram: histogram)
        return SearchResult(best: best, onEdge: onEdge, spread: radius)
    }

    /// The 68 %-mass radius of the grid of ``search(cx:cy:half:step:bound:histogram:)`` about
    /// its best node `best`, at grid indices (`bestI`, `bestJ`) from the centre. `batchRows`:
    /// two-station rows of ≤ ``maximumBatchedRowWidth`` nodes take their arrival-time χ² from
    /// ``rowTimeTotals(x:cy:k:step:into:)`` as in `search` (the same bits; tests turn it off).
    func spread(cx: Double, cy: Double, half: Double, step: Double, best: Node, bestI: Int, bestJ: Int,
                histogram: UnsafeMutableBufferPointer<Double>, batchRows: Bool = true) -> Double
    {
        let k = Int((half / step).rounded())
        let binWidth = step / 4
        let bins = min(histogram.count, Int(4 * (2.0).squareRoot() * Double(k) * 2) + 8)
        for b in 0..<bins { histogram[b] = 0 }
        let cutoff = best.chi2 + 40
        // Two stations, rows of ≤ 21 nodes: each row's arrival-time χ² first, as in `search`.
        let width = 2 * k + 1
        let batched = batchRows && terms.count == 2 && width <= Self.maximumBatchedRowWidth
        let wSum = withUnsafeTemporaryAllocation(of: Double.self, capacity: batched ? width : 0) { row -> Double in
            var wSum = 0.0
            for i in -k...k {
                let x = cx + Double(i) * step
                if batched, let rowTimes = row.baseAddress {
                    rowTimeTotals(x: x, cy: cy, k: k, step: step, into: rowTimes)
                }
                for j in -k...k {
                    let q = batched
                        ? completeChi2(x, cy + Double(j) * step, timeTotal: row[j + k], limit: cutoff)
                        : chi2(x, cy + Double(j) * step, limit: cutoff)
                    let dchi = q - best.chi2
                    guard dchi <= 40 else { continue }
                    let w = exp(-dchi / 2)
                    let dx = Double(i - bestI) * step, dy = Double(j - bestJ) * step
                    let bin = min(bins - 1, Int((dx * dx + dy * dy).squareRoot() / binWidth))
                    histogram[bin] += w
                    wSum += w
                }
            }
            return wSum
        }
        var radius = Double(bins) * binWidth
        var cumulative = 0.0
        for b in 0..<bins {
            cumulative += histogram[b]
            if cumulative >= 0.68 * wSum {
                radius = Double(b + 1) * binWidth
                break
            }
        }
        return radius
    }

    /// Histogram bins needed by ``search(cx:cy:half:step:histogram:)`` for a grid of half-width
    /// `half` and step `step`.
    static func histogramBins(half: Double, step: Double) -> Int {
        Int(4 * (2.0).squareRoot() * (half / step).rounded() * 2) + 8
    }
}

/// P travel times from one station to every node of the coarse grid (the (2k+1)² nodes
/// `(i·step, j·step)`, |i|, |j| ≤ k, of the local projection), row-major in i:
/// `T[(i+k)(2k+1) + j+k] = √(dx² + dy² + h²) / Vp`, with `dx = (0 + i·step) − x_s` and
/// `dy = (0 + j·step) − y_s` written exactly as ``LocatorMisfit/chi2(_:_:limit:)`` computes them,
/// so a χ² from the table is bit-identical to one computed on the fly.
///
/// It depends only on the station's projected position, the depth, Vp and the grid geometry,
/// not on the picks: the same station set (same projection origin) reuses it for every event
/// and every update. Immutable after construction.
final class LocatorTravelTimeTable: @unchecked Sendable {
    // @unchecked: `values` is written once in init and only read afterwards; it is freed in deinit.
    let values: UnsafeMutablePointer<Double>
    let count: Int

    init(stationX sx: Double, stationY sy: Double, depthSquared h2: Double, velocity v: Double, k: Int, step: Double) {
        let width = 2 * k + 1
        count = width * width
        values = .allocate(capacity: count)
        let cx = 0.0, cy = 0.0
        var index = 0
        for i in -k...k {
            let x = cx + Double(i) * step
            let dx = x - sx
            for j in -k...k {
                let y = cy + Double(j) * step
                let dy = y - sy
                values[index] = (dx * dx + dy * dy + h2).squareRoot() / v
                index += 1
            }
        }
    }

    deinit { values.deallocate() }
}

/// A process-wide cache of ``LocatorTravelTimeTable``s, keyed by the exact bits of everything a
/// table depends on. A fixed network has few station sets, so after the first location of a set
/// (or ``EventLocator/prepare(stationSets:)``) the coarse grid costs no square root.
///
/// Bounded: at most ``capacity`` tables (≈ 30 KB each for the default ±300 km / 10 km grid);
/// when full it is emptied before the next insertion (a new set of stations then pays one
/// table construction, ≈ the cost of one untabulated coarse pass).
final class LocatorTravelTimeCache: Sendable {
    struct Key: Hashable {
        var x: UInt64, y: UInt64, depthSquared: UInt64, velocity: UInt64, step: UInt64
        var k: Int
    }

    static let shared = LocatorTravelTimeCache()
    /// Largest grid that is tabulated ((2k+1)² ≤ this; the default grid has 3 721 nodes).
    static let maximumNodes = 40_401
    static let capacity = 64

    private let tables = Mutex<[Key: LocatorTravelTimeTable]>([:])

    /// The tables of `terms` (in order) for the grid (k, step), built when missing.
    func tables(for terms: UnsafeBufferPointer<LocatorTerm>, depthSquared: Double, velocity: Double, k: Int,
                step: Double) -> [LocatorTravelTimeTable]
    {
        tables.withLock { cache in
            terms.map { term in
                let key = Key(x: term.x.bitPattern, y: term.y.bitPattern, depthSquared: depthSquared.bitPattern,
                              velocity: velocity.bitPattern, step: step.bitPattern, k: k)
                if let table = cache[key] { return table }
                if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
                let table = LocatorTravelTimeTable(stationX: term.x, stationY: term.y, depthSquared: depthSquared,
                                                   velocity: velocity, k: k, step: step)
                cache[key] = table
                return table
            }
        }
    }

    /// Number of cached tables (for tests).
    var count: Int { tables.withLock { $0.count } }
}

/// The coarse-grid nodes of one event's location that can hold the minimum, kept with the event
/// across its updates (``EventLocator/locate(_:coarseCandidates:)``).
///
/// Which coarse nodes pass the arrival-time screen of
/// ``LocatorMisfit/searchTabulated(k:step:bound:tables:candidates:)`` depends only on the station
/// positions, the arrival times, h, Vp, σ_t and the grid — not on the back-azimuths and distances,
/// which change at every snapshot while an event's picks do not. The first location of a pick set
/// scans the whole grid (≈ 3 700 nodes) and records the nodes whose screen value is ≤ a
/// threshold (2 × the seed bound + 10), with their exact arrival-time χ²; later locations with
/// the same picks and a seed bound ≤ that threshold visit only those (typically a few hundred: the
/// band about the arrival-time hyperbola) and compute no arrival-time term, with the same result
/// bit for bit (see `searchTabulated`). Anything else (a new
/// pick, a larger bound) scans the grid again and records anew.
///
/// A value type: three allocations when recorded, none when read.
struct LocatorCoarseCandidates: Sendable {
    /// Bits of what the nodes depend on: x, y and time of each station term in order, then h²,
    /// Vp, σ_t², the step and k.
    private var key: [UInt64] = []
    /// The recorded nodes are every node whose screen value is ≤ this.
    var threshold = -Double.infinity
    /// Flat indices `(i + k)(2k + 1) + j + k` in increasing (row-major) order.
    var nodes: [Int32] = []
    /// The exact arrival-time χ² of each of ``nodes`` (as the scan computes it).
    var timeTotals: [Double] = []
    /// Number of searches that visited only ``nodes`` (for tests).
    var reuses = 0

    init() {}

    func matches(_ terms: UnsafeBufferPointer<LocatorTerm>, depthSquared: Double, velocity: Double,
                 pickVariance: Double, k: Int, step: Double) -> Bool
    {
        guard key.count == 3 * terms.count + 5 else { return false }
        for (s, term) in terms.enumerated() where key[3 * s] != term.x.bitPattern
            || key[3 * s + 1] != term.y.bitPattern || key[3 * s + 2] != term.time.bitPattern {
            return false
        }
        let o = 3 * terms.count
        return key[o] == depthSquared.bitPattern && key[o + 1] == velocity.bitPattern
            && key[o + 2] == pickVariance.bitPattern && key[o + 3] == step.bitPattern && key[o + 4] == UInt64(k)
    }

    mutating func setKey(_ terms: UnsafeBufferPointer<LocatorTerm>, depthSquared: Double, velocity: Double,
                         pickVariance: Double, k: Int, step: Double)
    {
        key = []
        key.reserveCapacity(3 * terms.count + 5)
        for term in terms {
            key.append(term.x.bitPattern)
            key.append(term.y.bitPattern)
            key.append(term.time.bitPattern)
        }
        for value in [depthSquared, velocity, pickVariance, step] { key.append(value.bitPattern) }
        key.append(UInt64(k))
    }
}
