// The grid-search kernel of EventLocator.locate: the χ² misfit over a contiguous table of
// station terms, with early exit, and the nested grids. No heap allocation per node.

import SeismicCore

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

    /// χ² at (x, y) km, or any value > `limit` once the partial sum exceeds it.
    func chi2(_ x: Double, _ y: Double, limit: Double = .infinity) -> Double {
        let n = terms.count
        var sumT = 0.0
        for i in 0..<n {
            let dx = x - terms[i].x, dy = y - terms[i].y
            let t = (dx * dx + dy * dy + depthSquared).squareRoot() / velocity
            travel[i] = t
            sumT += terms[i].time - t
        }
        let t0 = sumT / Double(n)
        var total = 0.0
        for i in 0..<n {
            let r = terms[i].time - travel[i] - t0
            total += r * r / pickVariance
        }
        if total > limit { return total }
        for i in 0..<n {
            let term = terms[i]
            guard term.hasBackAzimuth || term.hasDistance else { continue }
            let dx = x - term.x, dy = y - term.y
            if term.hasBackAzimuth {
                let dphi = Self.angleDifference(term.backAzimuthDegrees, atan2(dx, dy) * 180 / .pi)
                total += dphi * dphi * term.backAzimuthWeight
            }
            if term.hasDistance {
                let rd = term.log10Distance - log10(max((dx * dx + dy * dy).squareRoot(), 1e-3))
                total += rd * rd * term.distanceWeight
            }
            if total > limit { return total }
        }
        return total
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

    struct SearchResult {
        var best: Node
        var onEdge: Bool
        /// Radius about the best node holding 68 % of the posterior mass (NaN unless asked for).
        var spread: Double
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
    func search(cx: Double, cy: Double, half: Double, step: Double, bound: Double = .infinity,
                histogram: UnsafeMutableBufferPointer<Double>? = nil) -> SearchResult
    {
        let k = Int((half / step).rounded())
        var best = Node(x: cx, y: cy, chi2: .infinity)
        var bestI = 0, bestJ = 0
        for i in -k...k {
            let x = cx + Double(i) * step
            for j in -k...k {
                let y = cy + Double(j) * step
                let q = chi2(x, y, limit: min(best.chi2, bound))
                if q < best.chi2 {
                    best = Node(x: x, y: y, chi2: q)
                    bestI = i
                    bestJ = j
                }
            }
        }
        let onEdge = abs(bestI) == k || abs(bestJ) == k
        guard let histogram else { return SearchResult(best: best, onEdge: onEdge, spread: .nan) }
        let radius = spread(cx: cx, cy: cy, half: half, step: step, best: best, bestI: bestI, bestJ: bestJ,
                            histogram: histogram)
        return SearchResult(best: best, onEdge: onEdge, spread: radius)
    }

    /// The 68 %-mass radius of the grid of ``search(cx:cy:half:step:bound:histogram:)`` about
    /// its best node `best`, at grid indices (`bestI`, `bestJ`) from the centre.
    func spread(cx: Double, cy: Double, half: Double, step: Double, best: Node, bestI: Int, bestJ: Int,
                histogram: UnsafeMutableBufferPointer<Double>) -> Double
    {
        let k = Int((half / step).rounded())
        let binWidth = step / 4
        let bins = min(histogram.count, Int(4 * (2.0).squareRoot() * Double(k) * 2) + 8)
        for b in 0..<bins { histogram[b] = 0 }
        let cutoff = best.chi2 + 40
        var wSum = 0.0
        for i in -k...k {
            for j in -k...k {
                let q = chi2(cx + Double(i) * step, cy + Double(j) * step, limit: cutoff)
                let dchi = q - best.chi2
                guard dchi <= 40 else { continue }
                let w = exp(-dchi / 2)
                let dx = Double(i - bestI) * step, dy = Double(j - bestJ) * step
                let bin = min(bins - 1, Int((dx * dx + dy * dy).squareRoot() / binWidth))
                histogram[bin] += w
                wSum += w
            }
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
