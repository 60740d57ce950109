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
/// difference, i.e. the hyperbola, with σ_Δt = √2 σ_t). Three nested grids: ±``Configuration/gridHalfWidthKilometers``
/// at ``Configuration/coarseStepKilometers`` (default ±300 km, 5 km), then ±20 km at 0.5 km around the best node, then
/// ±1 km at 0.05 km. Horizontal "σ" = the radius about the best node that holds 68 % of the
/// posterior mass (weights `exp(−(χ² − χ²_min)/2)`, flat prior over the grid) on the 0.5 km grid,
/// or on the coarse grid when that radius reaches 15 km. With two stations ≈ 14 km apart the
/// posterior is elongated along the back-azimuth and has a long tail (the hyperbola's asymptote):
/// distances beyond ≈ 3 baselines are weakly constrained, and this radius says so.
/// Origin-time σ = `√(σ_t²/n + (σ_h/Vp)²)`.
/// - Complexity: ≈ 23 000 χ² evaluations (two stations: ≈ 0.3–1 ms); no allocation per node.
public struct EventLocator: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var pVelocityKilometersPerSecond: Double
        public var depthKilometers: Double
        /// σ of one pick time, s.
        public var pickSigmaSeconds: Double
        public var gridHalfWidthKilometers: Double
        public var coarseStepKilometers: Double

        public init(pVelocityKilometersPerSecond: Double = 6.0, depthKilometers: Double = 10, pickSigmaSeconds: Double = 0.05,
                    gridHalfWidthKilometers: Double = 300, coarseStepKilometers: Double = 5) {
            self.pVelocityKilometersPerSecond = pVelocityKilometersPerSecond
            self.depthKilometers = depthKilometers
            self.pickSigmaSeconds = pickSigmaSeconds
            self.gridHalfWidthKilometers = gridHalfWidthKilometers
            self.coarseStepKilometers = coarseStepKilometers
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
        guard let baz = a.backAzimuth, let d = a.distance, d.kilometers.isFinite, d.kilometers >= 0 else { return nil }
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

    private struct Node { var x: Double; var y: Double; var chi2: Double }

    /// Grid-search location from ≥ 2 arrivals (nil for fewer).
    public func locate(_ arrivals: [StationArrival]) -> LocationSolution? {
        guard arrivals.count >= 2 else { return nil }
        let c = configuration
        var latSum = 0.0, lonSum = 0.0
        for a in arrivals { latSum += a.location.latitudeDegrees; lonSum += a.location.longitudeDegrees }
        let proj = LocalProjection(origin: GeoPoint(latitudeDegrees: latSum / Double(arrivals.count),
                                                    longitudeDegrees: lonSum / Double(arrivals.count)))
        let reference = arrivals[0].pickTime
        let sx = arrivals.map { proj.project($0.location).eastKilometers }
        let sy = arrivals.map { proj.project($0.location).northKilometers }
        let times = arrivals.map { $0.pickTime.seconds(since: reference) }
        let baz = arrivals.map { $0.backAzimuth.map { ($0.backAzimuthDegrees, max($0.sigmaDegrees, 1e-3)) } }
        let dist = arrivals.map { $0.distance.map { (log10(max($0.kilometers, 1e-3)), max($0.log10Sigma, 1e-3)) } }
        let n = arrivals.count
        let h2 = c.depthKilometers * c.depthKilometers
        let v = c.pVelocityKilometersPerSecond
        let st2 = c.pickSigmaSeconds * c.pickSigmaSeconds

        func chi2(_ x: Double, _ y: Double) -> Double {
            var sumT = 0.0
            for i in 0..<n {
                let dx = x - sx[i], dy = y - sy[i]
                sumT += times[i] - (dx * dx + dy * dy + h2).squareRoot() / v
            }
            let t0 = sumT / Double(n)
            var total = 0.0
            for i in 0..<n {
                let dx = x - sx[i], dy = y - sy[i]
                let d2 = dx * dx + dy * dy
                let r = times[i] - (d2 + h2).squareRoot() / v - t0
                total += r * r / st2
                if let (phi, s) = baz[i] {
                    let predicted = atan2(dx, dy) * 180 / .pi
                    let dphi = Geodesy.angleDifference(phi, predicted)
                    total += dphi * dphi / (s * s)
                }
                if let (logD, s) = dist[i] {
                    let r = logD - log10(max(d2.squareRoot(), 1e-3))
                    total += r * r / (s * s)
                }
            }
            return total
        }

        func search(cx: Double, cy: Double, half: Double, step: Double) -> (best: Node, spread: Double) {
            let k = Int((half / step).rounded())
            var best = Node(x: cx, y: cy, chi2: .infinity)
            // First pass: minimum (deterministic order, ties keep the first node).
            for i in -k...k {
                for j in -k...k {
                    let x = cx + Double(i) * step, y = cy + Double(j) * step
                    let q = chi2(x, y)
                    if q < best.chi2 { best = Node(x: x, y: y, chi2: q) }
                }
            }
            // Second pass: radius about the best node holding 68 % of the posterior mass
            // (weights exp(−Δχ²/2), flat prior on the grid), from a distance histogram.
            let binWidth = step / 4
            let maxRadius = 2 * (2 * half * half).squareRoot() + step
            var histogram = [Double](repeating: 0, count: Int(maxRadius / binWidth) + 2)
            var wSum = 0.0
            for i in -k...k {
                for j in -k...k {
                    let x = cx + Double(i) * step, y = cy + Double(j) * step
                    let w = exp(-(chi2(x, y) - best.chi2) / 2)
                    let dx = x - best.x, dy = y - best.y
                    let bin = min(histogram.count - 1, Int((dx * dx + dy * dy).squareRoot() / binWidth))
                    histogram[bin] += w
                    wSum += w
                }
            }
            guard wSum > 0 else { return (best, .infinity) }
            var cumulative = 0.0
            var radius = Double(histogram.count) * binWidth
            for (b, w) in histogram.enumerated() {
                cumulative += w
                if cumulative >= 0.68 * wSum { radius = Double(b + 1) * binWidth; break }
            }
            return (best, radius)
        }

        let coarse = search(cx: 0, cy: 0, half: c.gridHalfWidthKilometers, step: c.coarseStepKilometers)
        let fine = search(cx: coarse.best.x, cy: coarse.best.y, half: 20, step: 0.5)
        let finest = search(cx: fine.best.x, cy: fine.best.y, half: 1, step: 0.05)
        // The 0.5 km grid resolves compact posteriors; when its 68 % radius reaches 15 km (the
        // ±20 km window truncates the tail) the coarse grid's radius is used.
        var sigmaH = fine.spread < 15 ? fine.spread : max(coarse.spread, fine.spread)
        sigmaH = max(sigmaH, finest.spread)
        let b = finest.best
        var sumT = 0.0
        for i in 0..<n {
            let dx = b.x - sx[i], dy = b.y - sy[i]
            sumT += times[i] - (dx * dx + dy * dy + h2).squareRoot() / v
        }
        let t0 = sumT / Double(n)
        let origin = reference.adding(nanoseconds: Int64((t0 * 1e9).rounded()))
        let sigmaT = (st2 / Double(n) + pow(sigmaH / v, 2)).squareRoot()
        let dataCount = (n - 1) + baz.compactMap { $0 }.count + dist.compactMap { $0 }.count
        return LocationSolution(epicenter: proj.unproject(eastKilometers: b.x, northKilometers: b.y),
                                depthKilometers: c.depthKilometers, originTime: origin, horizontalSigmaKilometers: sigmaH,
                                originTimeSigmaSeconds: sigmaT, misfit: b.chi2, dataCount: dataCount, method: .gridSearch)
    }
}
