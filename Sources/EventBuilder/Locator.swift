// Event location from one station (back-azimuth + distance) or from two or more stations
// (arrival times + back-azimuths + optional envelope distances), by grid search.

public import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One station's observations for location.
public struct StationArrival: Sendable, Equatable {
    /// Station code `NET.STA`.
    public var station: String
    public var location: GeoPoint
    /// P pick time.
    public var pickTime: Timestamp
    public var backAzimuth: BackAzimuthEstimate?
    public var distance: EpicentralDistanceEstimate?

    public init(station: String, location: GeoPoint, pickTime: Timestamp, backAzimuth: BackAzimuthEstimate? = nil,
                distance: EpicentralDistanceEstimate? = nil) {
        self.station = station
        self.location = location
        self.pickTime = pickTime
        self.backAzimuth = backAzimuth
        self.distance = distance
    }
}

/// A located epicentre.
public struct LocationSolution: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable {
        /// One station: epicentre = station moved by the distance along the back-azimuth.
        case onsite
        /// Grid search over two or more stations.
        case gridSearch
    }

    public var epicenter: GeoPoint
    /// Assumed (fixed) depth, km.
    public var depthKilometers: Double
    public var originTime: Timestamp
    /// RMS horizontal (radial) error, km.
    public var horizontalSigmaKilometers: Double
    /// 1-σ of the origin time, s.
    public var originTimeSigmaSeconds: Double
    /// χ² of the best grid node (0 for onsite).
    public var misfit: Double
    /// Number of data terms in χ² (times − 1 + back-azimuths + distances).
    public var dataCount: Int
    public var method: Method
}

/// Grid-search and onsite locator with a constant-velocity half-space and a fixed depth.
///
/// **Travel time**: `T = √(Δ² + h²) / Vp` (straight ray, Vp = 6.0 km/s — a typical upper-crust
/// P velocity; h = ``Configuration/depthKilometers``, default 10 km — **assumed provisional
/// depth**: the 2008 Wenchuan and 2013 Lushan hypocentres were at ≈ 14–19 km and ≈ 13–17 km, the
/// Sichuan-basin seismicity is mostly shallower; 10 km is a round provisional value, not
/// calibrated). Algorithms.md §7 uses the same kinematics.
///
/// **Onsite** (one station): epicentre = ``Geodesy/destination(from:bearingDegrees:distanceKilometers:)``
/// of the station along the back-azimuth by the epicentral distance; horizontal σ =
/// `√(σ_Δ² + (Δ σ_φ)²)` (along-ray and across-ray errors); origin time `t_P − T`, σ = σ_Δ·(Δ/R)/Vp.
///
/// **Grid search** (≥ 2 stations), in a ``LocalProjection`` centred on the stations' mean position:
/// ```
/// χ²(x) = Σ_i (t_i − T_i(x) − t̂0(x))² / σ_t²                 t̂0 = mean_i (t_i − T_i(x))
///       + Σ_i wrap(φ_i − φ_i(x))² / σ_φi²                      (stations with a back-azimuth)
///       + Σ_i (log10 Δ_i − log10 Δ_i(x))² / σ_logΔi²           (stations with a distance)
/// ```
/// (origin time eliminated analytically; with two stations the time term is the arrival-time
/// difference, i.e. the hyperbola, with σ_Δt = √2 σ_t). Nested grids: ±``Configuration/gridHalfWidthKilometers``
/// at ``Configuration/coarseStepKilometers`` (default ±300 km, 10 km; a 15 km step was tried and fell into a
/// secondary minimum on one seeded noisy case); then ±10 km at 1 km, re-centred (up to 20 times) while its
/// minimum lies on its edge, so the search walks down a narrow, flat χ² valley that the coarse grid only
/// grazed; then 5 × 5 pattern grids at 0.1 km and 0.01 km walked downhill the same way (up to 40 times),
/// each level started from Newton steps on χ² (gradient and Hessian by central differences), which jump
/// along the flat valley that the axis-aligned patterns would crawl.
/// Every grid evaluates χ² with an exact early exit (``LocatorMisfit``): all terms are ≥ 0, so a
/// node whose partial sum already exceeds a known node's χ² cannot be the minimum.
/// Horizontal σ: local Gaussian approximation, `C = 2 H⁻¹` from the χ² Hessian at the minimum
/// (central differences, 0.5 km), reported as the RMS radial error `√(trace C)`; the 1 km grid's
/// 68 %-mass radius is used instead when it is larger (and < 7 km). With two stations ≈ 14 km apart
/// the error ellipse is elongated along the back-azimuth, and beyond ≈ 3 baselines the distance is
/// weakly constrained (the hyperbola's asymptote); σ then grows accordingly (coverage tested).
/// Origin-time σ = `√(σ_t²/n + (σ_h/Vp)²)`.
/// - Complexity: ≈ 3 700 (coarse) + 441 per 1 km grid (+ its 68 % radius pass) + 25 per pattern
///   step + 9 per Newton step χ² evaluations, most of the grids' stopped after the time terms; one scratch allocation per
///   call (stack for small networks), none per node. Three shortcuts leave the result bit-identical
///   (`Tests/EventBuilderTests/LocatorShortcutTests` compares them with the plain search):
///   - the coarse grid reads each station's travel times from a ``LocatorTravelTimeTable`` (it
///     depends only on the station's projected position, h, Vp and the grid, so it is built once
///     per station set and cached process-wide; ``prepare(stationSets:)`` builds it ahead) and
///     drops a node when its arrival-time χ² computed with products instead of quotients
///     already exceeds the best node's χ² by a relative 10⁻¹² (far above the rounding
///     difference of the two), so no square root and one division per node;
///   - the 1 km grid's 68 % radius pass (441 complete χ² with `exp`) is skipped when the
///     Hessian's σ_h ≥ 7 km, where σ_h = max(σ_H, radius < 7 km) is σ_H whatever the radius.
///   - a re-centred 1 km or pattern grid takes the complete χ² recorded for a node of the grid
///     before when its coordinates come out bit-identical (``LocatorMisfit/GridMemo``): the pattern
///     walks of flat valleys (up to 2 × 40 grids) dominate the slowest 1 % of locations.
///   - per event (``locate(_:coarseCandidates:)``, used by ``EventBuilder``): the coarse nodes that
///     pass the arrival-time screen depend only on the picks, which an event's snapshots do not
///     change; the first location of a pick set records the nodes whose screen value is ≤ 2 × the
///     seed bound + 10 with their exact time χ², and later ones with the same picks and a seed
///     bound ≤ that visit only those (``LocatorCoarseCandidates``; the minimum is always among them, see
///     ``LocatorMisfit/searchTabulated(k:step:bound:tables:candidates:)``). Tested against fresh
///     and plain solves in `Tests/EventBuilderTests/LocatorCandidateCacheTests`.
///
///   Two-station 1 km and pattern grids compute a row's arrival-time χ² before scanning it
///   (``LocatorMisfit/rowTimeTotals(x:cy:k:step:into:)``, the same expression per node), so the
///   square roots and divisions of neighbouring nodes overlap instead of waiting for the early-exit
///   branches.
///
///   Measured on `quakewarn bench --event-clock thread-cpu` (the second station's snapshot of 5000
///   seeded two-station events: location, magnitude, warning, JSON, Ed25519), release build:
///   p50 ≈ 195 → 97 µs, p99 ≈ 300–340 → 162–170 µs (the first, onsite Alert without the locator:
///   ≈ 49 → 28 µs, mostly the Ed25519 signature). The per-event coarse candidates and the
///   row-batched time χ² then took the two-station update from p50 ≈ 87.5 to ≈ 78 µs (3 alternating
///   runs each, `scripts/dev/event-stage-ab.sh`; p99 ≈ 150–170 µs on both, within this VM's noise:
///   the slowest locations are long pattern walks, which neither shortcut shortens).
///   `Tests/EventBuilderTests/LocatorBruteForceTests` checks the minimum against a dense
///   brute-force search.
public struct EventLocator: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var pVelocityKilometersPerSecond: Double
        public var depthKilometers: Double
        /// σ of one pick time, s.
        public var pickSigmaSeconds: Double
        public var gridHalfWidthKilometers: Double
        public var coarseStepKilometers: Double

        public init(pVelocityKilometersPerSecond: Double = 6.0, depthKilometers: Double = 10, pickSigmaSeconds: Double = 0.05,
                    gridHalfWidthKilometers: Double = 300, coarseStepKilometers: Double = 10) {
            self.pVelocityKilometersPerSecond = pVelocityKilometersPerSecond
            self.depthKilometers = depthKilometers
            self.pickSigmaSeconds = pickSigmaSeconds
            self.gridHalfWidthKilometers = gridHalfWidthKilometers
            self.coarseStepKilometers = coarseStepKilometers
        }

        /// True when every value is finite and positive (depth ≥ 0) and the coarse grid has at most
        /// 1001 × 1001 nodes; the locator returns nil otherwise (configuration comes from files).
        public var isUsable: Bool {
            pVelocityKilometersPerSecond.isFinite && pVelocityKilometersPerSecond > 0 && depthKilometers.isFinite
                && depthKilometers >= 0 && pickSigmaSeconds.isFinite && pickSigmaSeconds > 0
                && gridHalfWidthKilometers.isFinite && gridHalfWidthKilometers > 0 && coarseStepKilometers.isFinite
                && coarseStepKilometers > 0 && gridHalfWidthKilometers / coarseStepKilometers <= 500
        }
    }

    public var configuration: Configuration

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Travel time of P to epicentral distance `delta` km, s.
    public func travelTimeSeconds(epicentralDistanceKilometers delta: Double) -> Double {
        let h = configuration.depthKilometers
        return (delta * delta + h * h).squareRoot() / configuration.pVelocityKilometersPerSecond
    }

    /// One-station location; nil without both a back-azimuth and a distance.
    public func locateOnsite(_ a: StationArrival) -> LocationSolution? {
        guard let baz = a.backAzimuth, let d = a.distance, d.kilometers.isFinite, d.kilometers >= 0,
              d.kilometers <= 20_000, baz.backAzimuthDegrees.isFinite, configuration.isUsable else { return nil }
        let c = configuration
        let epi = Geodesy.destination(from: a.location, bearingDegrees: baz.backAzimuthDegrees,
                                      distanceKilometers: d.kilometers)
        let sigmaAlong = d.sigmaKilometers
        let sigmaAcross = d.kilometers * baz.sigmaDegrees * .pi / 180
        let sigmaH = (sigmaAlong * sigmaAlong + sigmaAcross * sigmaAcross).squareRoot()
        let r = (d.kilometers * d.kilometers + c.depthKilometers * c.depthKilometers).squareRoot()
        let t = travelTimeSeconds(epicentralDistanceKilometers: d.kilometers)
        let origin = a.pickTime.adding(nanoseconds: -Int64((t * 1e9).rounded()))
        let sigmaT = (c.pickSigmaSeconds * c.pickSigmaSeconds
            + pow(sigmaAlong * (r > 0 ? d.kilometers / r : 0) / c.pVelocityKilometersPerSecond, 2)).squareRoot()
        return LocationSolution(epicenter: epi, depthKilometers: c.depthKilometers, originTime: origin,
                                horizontalSigmaKilometers: sigmaH, originTimeSigmaSeconds: sigmaT, misfit: 0,
                                dataCount: 2, method: .onsite)
    }

    /// The projection of a station set: the equirectangular plane about the stations' mean
    /// position (summed in the given order).
    static func projection(of locations: [GeoPoint]) -> LocalProjection {
        var latSum = 0.0, lonSum = 0.0
        for p in locations { latSum += p.latitudeDegrees; lonSum += p.longitudeDegrees }
        return LocalProjection(origin: GeoPoint(latitudeDegrees: latSum / Double(locations.count),
                                                longitudeDegrees: lonSum / Double(locations.count)))
    }

    /// Half-width of the coarse grid in nodes, and whether its travel times are tabulated.
    private var coarseGrid: (k: Int, tabulated: Bool) {
        let k = Int((configuration.gridHalfWidthKilometers / configuration.coarseStepKilometers).rounded())
        return (k, (2 * k + 1) * (2 * k + 1) <= LocatorTravelTimeCache.maximumNodes)
    }

    /// Builds the coarse-grid travel-time tables (``LocatorTravelTimeTable``) of each station set
    /// now, so that the first ``locate(_:)`` of that set (in that order of stations) does not
    /// pay for them. Optional: `locate` builds missing tables itself. Results do not depend on
    /// whether this was called.
    public func prepare(stationSets: [[GeoPoint]]) {
        guard configuration.isUsable, coarseGrid.tabulated else { return }
        let c = configuration
        for set in stationSets where set.count >= 2
            && set.allSatisfy({ $0.latitudeDegrees.isFinite && $0.longitudeDegrees.isFinite }) {
            let proj = Self.projection(of: set)
            let terms = set.map { p -> LocatorTerm in
                let q = proj.project(p)
                return LocatorTerm(x: q.eastKilometers, y: q.northKilometers, time: 0, hasBackAzimuth: false,
                                   backAzimuthDegrees: 0, backAzimuthWeight: 0, hasDistance: false, log10Distance: 0,
                                   distanceWeight: 0)
            }
            _ = terms.withUnsafeBufferPointer { buffer in
                LocatorTravelTimeCache.shared.tables(for: buffer, depthSquared: c.depthKilometers * c.depthKilometers,
                                                     velocity: c.pVelocityKilometersPerSecond, k: coarseGrid.k,
                                                     step: c.coarseStepKilometers)
            }
        }
    }

    /// The shortcuts of ``locate(_:)`` that leave its result unchanged; tests turn them off to
    /// compare against the plain search.
    struct SearchShortcuts {
        /// Coarse grid from ``LocatorTravelTimeTable``s with the product screen (else computed per node).
        var travelTimeTables = true
        /// No 1 km spread pass when the Hessian's σ_h ≥ 7 km already decides σ_h.
        var skipUndecisiveSpread = true
        /// Re-centred 1 km and pattern grids reuse the complete χ² of bit-identical nodes.
        var reuseRecentredNodes = true
    }

    /// Grid-search location from ≥ 2 arrivals (nil for fewer).
    public func locate(_ arrivals: [StationArrival]) -> LocationSolution? {
        locate(arrivals, shortcuts: SearchShortcuts())
    }

    /// ``locate(_:)`` of one event's arrivals, keeping the coarse grid's candidate nodes in
    /// `coarseCandidates` from one update of the event to the next (``LocatorCoarseCandidates``;
    /// start with an empty value). The result is the same as ``locate(_:)``'s, bit for bit.
    func locate(_ arrivals: [StationArrival], coarseCandidates: inout LocatorCoarseCandidates) -> LocationSolution? {
        withUnsafeMutablePointer(to: &coarseCandidates) {
            locate(arrivals, shortcuts: SearchShortcuts(), coarseCandidates: $0)
        }
    }

    func locate(_ arrivals: [StationArrival], shortcuts: SearchShortcuts,
                coarseCandidates: UnsafeMutablePointer<LocatorCoarseCandidates>? = nil) -> LocationSolution? {
        guard arrivals.count >= 2, configuration.isUsable,
              arrivals.allSatisfy({ $0.location.latitudeDegrees.isFinite && $0.location.longitudeDegrees.isFinite })
        else { return nil }
        let c = configuration
        let proj = Self.projection(of: arrivals.map(\.location))
        let reference = arrivals[0].pickTime
        let n = arrivals.count
        let h2 = c.depthKilometers * c.depthKilometers
        let v = c.pVelocityKilometersPerSecond
        let st2 = c.pickSigmaSeconds * c.pickSigmaSeconds
        let coarseBins = LocatorMisfit.histogramBins(half: c.gridHalfWidthKilometers, step: c.coarseStepKilometers)
        let fineBins = LocatorMisfit.histogramBins(half: 10, step: 1)
        let grid = coarseGrid
        // One scratch allocation per call (stack for small networks): station terms, the
        // coarse tables' addresses, travel times and the spread histogram; nothing is allocated
        // per grid node.
        let termStride = MemoryLayout<LocatorTerm>.stride
        let pointerStride = MemoryLayout<UnsafePointer<Double>>.stride
        let doubles = n + max(coarseBins, fineBins)
        return withUnsafeTemporaryAllocation(byteCount: n * termStride + n * pointerStride + doubles * 8,
                                             alignment: MemoryLayout<LocatorTerm>.alignment) { raw -> LocationSolution? in
            guard let base = raw.baseAddress else { return nil }
            let terms = base.bindMemory(to: LocatorTerm.self, capacity: n)
            for (i, a) in arrivals.enumerated() {
                let p = proj.project(a.location)
                (terms + i).initialize(to: LocatorTerm(
                    x: p.eastKilometers, y: p.northKilometers, time: a.pickTime.seconds(since: reference),
                    hasBackAzimuth: a.backAzimuth != nil, backAzimuthDegrees: a.backAzimuth?.backAzimuthDegrees ?? 0,
                    backAzimuthWeight: a.backAzimuth.map { 1 / pow(max($0.sigmaDegrees, 1e-3), 2) } ?? 0,
                    hasDistance: a.distance != nil,
                    log10Distance: a.distance.map { log10(max($0.kilometers, 1e-3)) } ?? 0,
                    distanceWeight: a.distance.map { 1 / pow(max($0.log10Sigma, 1e-3), 2) } ?? 0)
                    .withBackAzimuthVector())
            }
            let termBuffer = UnsafeBufferPointer(start: terms, count: n)
            let tables = grid.tabulated && shortcuts.travelTimeTables
                ? LocatorTravelTimeCache.shared.tables(for: termBuffer, depthSquared: h2, velocity: v, k: grid.k,
                                                       step: c.coarseStepKilometers)
                : []
            let pointers = (base + n * termStride).bindMemory(to: UnsafePointer<Double>.self, capacity: n)
            for (i, table) in tables.enumerated() {
                (pointers + i).initialize(to: UnsafePointer(table.values))
            }
            let scratch = (base + n * termStride + n * pointerStride).bindMemory(to: Double.self, capacity: doubles)
            let misfit = LocatorMisfit(terms: termBuffer,
                                       travel: UnsafeMutableBufferPointer(start: scratch, count: n),
                                       depthSquared: h2, velocity: v, pickVariance: st2)
            let histogram = UnsafeMutableBufferPointer(start: scratch + n, count: max(coarseBins, fineBins))
            return withExtendedLifetime(tables) {
                solveGrid(misfit, projection: proj, reference: reference, histogram: histogram,
                          coarseTables: tables.isEmpty ? nil : UnsafePointer(pointers),
                          coarseCandidates: coarseCandidates,
                          skipUndecisiveSpread: shortcuts.skipUndecisiveSpread,
                          reuseRecentredNodes: shortcuts.reuseRecentredNodes)
            }
        }
    }

    /// The nested grids, the uncertainty and the solution (see the type's documentation).
    private func solveGrid(_ misfit: LocatorMisfit, projection proj: LocalProjection, reference: Timestamp,
                           histogram: UnsafeMutableBufferPointer<Double>,
                           coarseTables: UnsafePointer<UnsafePointer<Double>>?,
                           coarseCandidates: UnsafeMutablePointer<LocatorCoarseCandidates>?,
                           skipUndecisiveSpread: Bool, reuseRecentredNodes: Bool) -> LocationSolution
    {
        let c = configuration
        let n = misfit.terms.count
        let h2 = misfit.depthSquared, v = misfit.velocity, st2 = misfit.pickVariance
        func chi2(_ x: Double, _ y: Double) -> Double { misfit.chi2(x, y) }
        // A bound for the coarse grid's early exit: complete χ² at coarse nodes along each
        // station's back-azimuth ray (every step out to twice the half-width). The epicentre
        // lies near such a ray, so the bound is close to the coarse minimum and most nodes off
        // the arrival-time hyperbola stop after the time terms. Every seed is a node of the
        // coarse grid (coordinates i·step, computed as the grid does), so the minimum found is
        // the same as without the bound.
        let coarseStep = c.coarseStepKilometers
        let coarseK = Int((c.gridHalfWidthKilometers / coarseStep).rounded())
        var seed = Double.infinity
        for term in misfit.terms where term.hasBackAzimuth {
            let azimuth = term.backAzimuthDegrees * .pi / 180
            let ux = sin(azimuth), uy = cos(azimuth)
            var r = coarseStep / 2
            while r < 2 * c.gridHalfWidthKilometers {
                let i = ((term.x + r * ux) / coarseStep).rounded(), j = ((term.y + r * uy) / coarseStep).rounded()
                if abs(i) <= Double(coarseK), abs(j) <= Double(coarseK) {
                    seed = min(seed, misfit.chi2(0 + i * coarseStep, 0 + j * coarseStep, limit: seed))
                }
                r += coarseStep
            }
        }
        let coarse = if let coarseTables {
            misfit.searchTabulated(k: coarseK, step: coarseStep, bound: seed, tables: coarseTables,
                                   candidates: coarseCandidates)
        } else {
            misfit.search(cx: 0, cy: 0, half: c.gridHalfWidthKilometers, step: coarseStep, bound: seed)
        }
        // Two records of the 21 × 21 grid and two of the 5 × 5 pattern grid (3 doubles per node).
        let fineMemoCount = 21 * 21 * 3
        let memoStorage = UnsafeMutablePointer<Double>.allocate(capacity: 2 * fineMemoCount + 2 * 75)
        defer { memoStorage.deallocate() }
        let fineMemo = memoStorage, patternMemo = memoStorage + 2 * fineMemoCount
        /// A grid re-centred (up to 20 times) while its minimum lies on its edge: walks down a
        /// narrow, flat χ² valley that a coarser grid only grazed. Returns the last grid's result
        /// and centre.
        func walk(from start: LocatorMisfit.Node, half: Double, step: Double)
            -> (result: LocatorMisfit.SearchResult, centre: LocatorMisfit.Node)
        {
            var centre = start
            var memo = LocatorMisfit.GridMemo(previous: nil, current: fineMemo, shiftI: 0, shiftJ: 0)
            var r = misfit.search(cx: start.x, cy: start.y, half: half, step: step, bound: start.chi2,
                                  memo: reuseRecentredNodes ? memo : nil)
            var walks = 0
            while r.onEdge && walks < 20 && max(abs(r.best.x), abs(r.best.y)) < c.gridHalfWidthKilometers {
                centre = r.best
                memo = LocatorMisfit.GridMemo(previous: memo.current, current: memo.previous ?? fineMemo + fineMemoCount,
                                              shiftI: r.bestI, shiftJ: r.bestJ)
                r = misfit.search(cx: r.best.x, cy: r.best.y, half: half, step: step, bound: r.best.chi2,
                                  memo: reuseRecentredNodes ? memo : nil)
                walks += 1
            }
            return (r, centre)
        }
        let (fine, fineCentre) = walk(from: coarse.best, half: 10, step: 1)
        /// The 68 % radius of the last 1 km grid only (the one whose minimum is returned); computed
        /// only where σ_h depends on it.
        func fineSpread() -> Double {
            let bestI = Int(((fine.best.x - fineCentre.x) / 1).rounded())
            let bestJ = Int(((fine.best.y - fineCentre.y) / 1).rounded())
            return misfit.spread(cx: fineCentre.x, cy: fineCentre.y, half: 10, step: 1, best: fine.best,
                                 bestI: bestI, bestJ: bestJ, histogram: histogram)
        }
        // Sub-kilometre refinement on the smooth χ² surface: 5 × 5 pattern grids walked downhill
        // (re-centred while the minimum is on the edge, up to 40 times), at 0.1 km then 0.01 km.
        // (21 × 21 grids at ±1 km and ±0.1 km gave the same minima on the tests' geometries and
        // the brute-force comparison, at 4–8 times the cost: in a flat valley every node of
        // those grids needs its complete χ².)
        // Re-centred grids share most nodes with the grid before; a node whose coordinates come
        // out bit-identical takes its recorded complete χ² (LocatorMisfit.GridMemo).
        func descend(from start: LocatorMisfit.Node, step: Double) -> LocatorMisfit.Node {
            var memo = LocatorMisfit.GridMemo(previous: nil, current: patternMemo, shiftI: 0, shiftJ: 0)
            var r = misfit.search(cx: start.x, cy: start.y, half: 2 * step, step: step, bound: start.chi2,
                                  memo: reuseRecentredNodes ? memo : nil)
            var walks = 0
            while r.onEdge && walks < 40 && max(abs(r.best.x), abs(r.best.y)) < c.gridHalfWidthKilometers {
                memo = LocatorMisfit.GridMemo(previous: memo.current, current: memo.previous ?? patternMemo + 75,
                                              shiftI: r.bestI, shiftJ: r.bestJ)
                r = misfit.search(cx: r.best.x, cy: r.best.y, half: 2 * step, step: step, bound: r.best.chi2,
                                  memo: reuseRecentredNodes ? memo : nil)
                walks += 1
            }
            return r.best
        }
        /// Gradient and Hessian of χ² at `m` by central differences with step `e` km (8 χ² values).
        func derivatives(at m: LocatorMisfit.Node, step e: Double)
            -> (gx: Double, gy: Double, fxx: Double, fyy: Double, fxy: Double)
        {
            let xp = chi2(m.x + e, m.y), xm = chi2(m.x - e, m.y), yp = chi2(m.x, m.y + e), ym = chi2(m.x, m.y - e)
            let fxy = (chi2(m.x + e, m.y + e) - chi2(m.x + e, m.y - e) - chi2(m.x - e, m.y + e)
                + chi2(m.x - e, m.y - e)) / (4 * e * e)
            return ((xp - xm) / (2 * e), (yp - ym) / (2 * e), (xp - 2 * m.chi2 + xm) / (e * e),
                    (yp - 2 * m.chi2 + ym) / (e * e), fxy)
        }
        /// Newton steps of χ² from `m`: δ = −H⁻¹ g with g and H by central differences (0.1 km,
        /// 8 χ² values each), while H is positive definite, |δ| ≤ 10 km (the 1 km grid's
        /// half-width) and χ² decreases; at most 4 steps, stopping after one shorter than 5 m.
        /// Returns the last accepted point (`m` when none), whose χ² is ≤ `m`'s.
        /// Why: the pattern grids walk an axis-aligned 5 × 5 pattern, which crawls along a narrow,
        /// flat diagonal valley (two stations: the hyperbola is a few hundred metres wide for
        /// σ_t = 50 ms, and along it only the back-azimuths and distances constrain the epicentre,
        /// to σ ≈ 10–30 km). On the pipeline benchmark's events (`quakewarn bench pipeline`, 32
        /// two-station locations) the 0.1 km walk took up to 13 grids and the 0.01 km walk 17 on
        /// average, hitting its 40-grid cap on the flattest (the true minimum was > 0.8 km away):
        /// ≈ 400 complete χ² per location after the 1 km grid, up to 1 120. χ² is close to
        /// quadratic over a few km, so the Newton point lands near the valley's floor: with a
        /// Newton step before each pattern level every walk took one or two grids, ≈ 100 complete
        /// χ² per location, at most 156, and the minima found are lower or equal.
        func newtonSteps(from m: LocatorMisfit.Node) -> LocatorMisfit.Node {
            var m = m
            for _ in 0..<4 {
                let d = derivatives(at: m, step: 0.1)
                let det = d.fxx * d.fyy - d.fxy * d.fxy
                guard d.fxx > 0, d.fyy > 0, det > 0 else { break }
                let dx = -(d.fyy * d.gx - d.fxy * d.gy) / det, dy = -(d.fxx * d.gy - d.fxy * d.gx) / det
                let length2 = dx * dx + dy * dy
                guard dx.isFinite, dy.isFinite, length2 <= 100 else { break }
                let q = chi2(m.x + dx, m.y + dy)
                guard q < m.chi2 else { break }
                m = LocatorMisfit.Node(x: m.x + dx, y: m.y + dy, chi2: q)
                if length2 < 0.005 * 0.005 { break }
            }
            return m
        }
        let finer = descend(from: newtonSteps(from: fine.best), step: 0.1)
        let finest = descend(from: newtonSteps(from: finer), step: 0.01)
        // Uncertainty: local Gaussian approximation of the posterior at the minimum. With
        // χ² ≈ χ²_min + δᵀ C⁻¹ δ the Hessian is H = 2 C⁻¹, so C = 2 H⁻¹ (H by central differences,
        // step 0.5 km); σ_h = √(trace C) is the RMS radial error. The 1 km grid's 68 % mass radius
        // (non-Gaussian, bounded by its ±10 km window) is taken when larger. If H is not positive
        // definite the coarse grid's 68 % radius is used.
        let (_, _, fxx, fyy, fxy) = derivatives(at: finest, step: 0.5)
        let det = fxx * fyy - fxy * fxy
        var sigmaH: Double
        if fxx > 0, fyy > 0, det > 0 {
            // C = 2 H⁻¹; trace C = 2 (fxx + fyy) / det.
            sigmaH = (2 * (fxx + fyy) / det).squareRoot()
            // max(σ_H, spread) for a spread < 7 km: with σ_H ≥ 7 km that is σ_H whatever the
            // spread, so the 441-node spread pass (complete χ² and exp at most nodes) is skipped.
            if !(skipUndecisiveSpread && sigmaH >= 7) {
                let spread = fineSpread()
                if spread < 7 { sigmaH = max(sigmaH, spread) }
            }
        } else {
            let coarseSpread = misfit.search(cx: 0, cy: 0, half: c.gridHalfWidthKilometers,
                                             step: c.coarseStepKilometers, histogram: histogram).spread
            sigmaH = max(coarseSpread, fineSpread())
        }
        sigmaH = min(sigmaH, 2 * c.gridHalfWidthKilometers)
        let b = finest
        var sumT = 0.0
        for i in 0..<n {
            let dx = b.x - misfit.terms[i].x, dy = b.y - misfit.terms[i].y
            sumT += misfit.terms[i].time - (dx * dx + dy * dy + h2).squareRoot() / v
        }
        let t0 = sumT / Double(n)
        let origin = reference.adding(nanoseconds: Int64((t0 * 1e9).rounded()))
        let sigmaT = (st2 / Double(n) + pow(sigmaH / v, 2)).squareRoot()
        let dataCount = (n - 1) + misfit.terms.filter(\.hasBackAzimuth).count + misfit.terms.filter(\.hasDistance).count
        return LocationSolution(epicenter: proj.unproject(eastKilometers: b.x, northKilometers: b.y),
                                depthKilometers: c.depthKilometers, originTime: origin, horizontalSigmaKilometers: sigmaH,
                                originTimeSigmaSeconds: sigmaT, misfit: b.chi2, dataCount: dataCount, method: .gridSearch)
    }
}
