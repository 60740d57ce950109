// Single-station back-azimuth from the polarisation of the first second of the P wave.

public import SeismicCore
public import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A back-azimuth (direction from the station towards the epicentre) with its uncertainty.
public struct BackAzimuthEstimate: Sendable, Equatable {
    /// Back-azimuth, degrees clockwise from north, [0, 360).
    public var backAzimuthDegrees: Double
    /// 1-σ uncertainty, degrees (statistical part and model floor in quadrature; ≤ 180).
    public var sigmaDegrees: Double
    /// Statistical part of σ alone (eigenvector scatter, see ``PolarizationAnalyzer``), degrees.
    public var statisticalSigmaDegrees: Double
    /// Rectilinearity `1 − (λ2 + λ3) / (2 λ1)` (Jurkevics 1988): 1 for a straight line, 0 for isotropic motion.
    public var rectilinearity: Double
    /// Apparent incidence angle of the principal axis from the vertical, degrees (0 = vertical).
    public var apparentIncidenceDegrees: Double
    /// Eigenvalues λ1 ≥ λ2 ≥ λ3 of the window covariance, (input unit)².
    public var eigenvalues: [Double]
    /// Effective number of independent samples used for σ (`min(N, 2·B·T)`).
    public var effectiveSampleCount: Double
    /// Start of the analysed window (the pick time), and its length in seconds.
    public var windowStart: Timestamp
    public var windowSeconds: Double

    public init(backAzimuthDegrees: Double, sigmaDegrees: Double, statisticalSigmaDegrees: Double,
                rectilinearity: Double, apparentIncidenceDegrees: Double, eigenvalues: [Double],
                effectiveSampleCount: Double, windowStart: Timestamp, windowSeconds: Double) {
        self.backAzimuthDegrees = backAzimuthDegrees
        self.sigmaDegrees = sigmaDegrees
        self.statisticalSigmaDegrees = statisticalSigmaDegrees
        self.rectilinearity = rectilinearity
        self.apparentIncidenceDegrees = apparentIncidenceDegrees
        self.eigenvalues = eigenvalues
        self.effectiveSampleCount = effectiveSampleCount
        self.windowStart = windowStart
        self.windowSeconds = windowSeconds
    }
}

/// Why a polarisation analysis could not be done.
public enum PolarizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The three components differ in length, rate or start time.
    case componentsMismatch(reason: String)
    /// The band-pass cannot be built at this rate.
    case filter(FilterDesignError)
    /// The analysis window `[pick, pick + window)` is not inside the data.
    case windowOutsideData(pickSample: Int, windowSamples: Int, sampleCount: Int)
    /// The window has no motion (all eigenvalues 0) or non-finite samples.
    case degenerate(reason: String)
    /// A configuration value is not usable.
    case invalidConfiguration(parameter: String, value: Double)

    public var description: String {
        switch self {
        case .componentsMismatch(let r): return "components do not match: \(r)"
        case .filter(let e): return "polarisation band-pass: \(e)"
        case let .windowOutsideData(p, n, count):
            return "window of \(n) samples from pick sample \(p) is outside the \(count) samples given"
        case .degenerate(let r): return "degenerate window: \(r)"
        case let .invalidConfiguration(p, v): return "\(p) = \(v) is not valid"
        }
    }
}

/// Back-azimuth of a P wave from the principal component of its 3-component particle motion.
///
/// **Method** (principal-component / covariance method; Flinn 1965, Proc. IEEE 53; Jurkevics 1988,
/// BSSA 78(5); Vidale 1986, BSSA 76(5); as used for onsite EEW back-azimuth, e.g. Eisermann et
/// al. 2015, BSSA 105(4)):
/// 1. Each component (north N, east E, vertical Z **positive up**, same rate and start) has its first
///    sample subtracted (so the filter does not ring on the offset) and is band-pass filtered
///    (default causal Butterworth order 4, 1–10 Hz: removes microseisms below 1 Hz and local
///    high-frequency scattering above 10 Hz). The same causal filter on all three components
///    preserves their relative amplitudes, hence the polarisation direction.
/// 2. The covariance matrix `C = (1/N) Σ (x − x̄)(x − x̄)ᵀ` of `x = (N, E, Z)` over the window
///    `[pick, pick + windowSeconds)` (default 1 s) is decomposed; `v1` (largest eigenvalue λ1) is
///    the polarisation direction of the P wave.
/// 3. **Convention (180° ambiguity).** A P wave's particle motion is parallel to its propagation
///    direction. The ray arrives from below, travelling upward and *away from the source*. The
///    eigenvector is a line; we orient it to point **up** (`v1.z > 0`). Then its horizontal part
///    `(v1.n, v1.e)` points away from the source, whatever the first-motion polarity
///    (compression: the ground moves up and away; dilatation: down and towards — the same line).
///    Hence
///    ```
///    azimuth of motion  α = atan2(v1.e, v1.n)          (clockwise from north)
///    back-azimuth       φ = α + 180°  (mod 360)         (direction from station to source)
///    ```
///    If `v1.z == 0` exactly (horizontal motion) the ambiguity cannot be resolved; the upward
///    orientation is then undefined and σ is large anyway (no vertical P motion).
/// 4. **Uncertainty.** Statistical part from the asymptotic covariance of a sample principal axis
///    (Anderson 1963, Ann. Math. Stat. 34: for N independent samples,
///    `Var(v̂1 · e_k) ≈ λ1 λk / (N (λ1 − λk)²)`, k = 2, 3), projected on the horizontal direction
///    perpendicular to the motion azimuth `u⊥ = (−sin α, cos α, 0)` and divided by the horizontal
///    length `h = √(v1.n² + v1.e²)` of `v1`:
///    ```
///    σ_φ² = Σ_k λ1 λk (e_k · u⊥)² / (N_eff (λ1 − λk)² h²)      (radians²)
///    ```
///    Band-passed samples are correlated, so N is replaced by the effective number of independent
///    samples of a band-limited signal, `N_eff = min(N, 2 · (f_high − f_low) · T)` (Nyquist–
///    Shannon: 2BT degrees of freedom). This is an approximation; the Monte-Carlo test in
///    `PolarizationTests` checks it against the scatter of seeded synthetic P waves. A model floor
///    (``Configuration/modelErrorDegrees``, default 5°: lateral heterogeneity, dipping layers and
///    site effects bias real back-azimuths by several degrees — an assumption, not a calibrated
///    value for Nanta/Gaosi) is added in quadrature. σ is capped at 180°.
///
/// Pre-event noise enters the covariance and biases `v1` towards the noise's own principal axis;
/// no noise-covariance correction is applied (a possible refinement).
///
/// - Latency: needs `windowSeconds` of data after the pick (1 s by default) plus at least the
///   lead in front of the pick the caller provides (recommend ≥ 2 s so the filter start-up has
///   decayed: the 1 Hz corner's transient falls to 10⁻³ in ≈ 3 s).
/// - Complexity: O(n) over the samples given, one allocation per component.
public struct PolarizationAnalyzer: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        /// Band-pass corners, Hz, and order.
        public var filterLowHz: Double
        public var filterHighHz: Double
        public var filterOrder: Int
        /// Window after the pick, s.
        public var windowSeconds: Double
        /// Model error added in quadrature to the statistical σ, degrees.
        public var modelErrorDegrees: Double

        public init(filterLowHz: Double = 1, filterHighHz: Double = 10, filterOrder: Int = 4, windowSeconds: Double = 1,
                    modelErrorDegrees: Double = 5) {
            self.filterLowHz = filterLowHz
            self.filterHighHz = filterHighHz
            self.filterOrder = filterOrder
            self.windowSeconds = windowSeconds
            self.modelErrorDegrees = modelErrorDegrees
        }
    }

    public var configuration: Configuration

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Analyses three blocks (N, E, Z; same rate, same start within half a sample, same length
    /// is not required — the common span is used) for a pick at `pickTime`.
    public func estimate(north: SampleBlock, east: SampleBlock, vertical: SampleBlock, pickTime: Timestamp)
        throws(PolarizationError) -> BackAzimuthEstimate
    {
        let fs = vertical.samplingRateHz
        guard north.samplingRateHz == fs, east.samplingRateHz == fs else {
            throw .componentsMismatch(reason: "sampling rates \(north.samplingRateHz), \(east.samplingRateHz), \(fs) Hz")
        }
        let halfSampleNs = 0.5e9 / fs
        for b in [north, east] where abs(Double(b.startTime.nanoseconds(since: vertical.startTime))) > halfSampleNs {
            throw .componentsMismatch(reason: "\(b.streamID) starts at \(b.startTime), vertical at \(vertical.startTime)")
        }
        let count = min(north.samples.count, east.samples.count, vertical.samples.count)
        return try estimate(north: Array(north.samples.prefix(count)), east: Array(east.samples.prefix(count)),
                            vertical: Array(vertical.samples.prefix(count)), startTime: vertical.startTime,
                            samplingRateHz: fs, pickTime: pickTime)
    }

    /// Analyses equal-length arrays starting at `startTime` (N, E, Z positive up).
    public func estimate(north: [Double], east: [Double], vertical: [Double], startTime: Timestamp,
                         samplingRateHz fs: Double, pickTime: Timestamp) throws(PolarizationError) -> BackAzimuthEstimate
    {
        let c = configuration
        guard fs.isFinite, fs > 0 else { throw .invalidConfiguration(parameter: "samplingRateHz", value: fs) }
        guard c.windowSeconds.isFinite, c.windowSeconds > 0, c.windowSeconds <= 600 else {
            throw .invalidConfiguration(parameter: "windowSeconds", value: c.windowSeconds)
        }
        guard c.modelErrorDegrees.isFinite, c.modelErrorDegrees >= 0 else {
            throw .invalidConfiguration(parameter: "modelErrorDegrees", value: c.modelErrorDegrees)
        }
        guard north.count == east.count, east.count == vertical.count else {
            throw .componentsMismatch(reason: "lengths \(north.count), \(east.count), \(vertical.count)")
        }
        let pickOffset = (pickTime.seconds(since: startTime) * fs).rounded()
        guard pickOffset.isFinite, abs(pickOffset) < 1e15 else {
            throw .windowOutsideData(pickSample: pickOffset < 0 ? Int.min : Int.max, windowSamples: 0,
                                     sampleCount: vertical.count)
        }
        let pick = Int(pickOffset)
        let n = SampleBlock.sampleCount(seconds: c.windowSeconds, samplingRateHz: fs)
        guard pick >= 0, n >= 3, pick + n <= vertical.count else {
            throw .windowOutsideData(pickSample: pick, windowSamples: n, sampleCount: vertical.count)
        }
        var filtered: [[Double]] = []
        for comp in [north, east, vertical] {
            var f: ButterworthFilter
            do {
                f = try ButterworthFilter(.bandpass(lowHz: c.filterLowHz, highHz: c.filterHighHz), order: c.filterOrder,
                                          samplingRateHz: fs)
            } catch { throw .filter(error) }
            let first = comp[0]
            var x = comp[0..<(pick + n)].map { $0 - first }
            f.process(&x)
            filtered.append(Array(x[pick..<(pick + n)]))
        }
        // Covariance about the window mean.
        var mean = SIMD3<Double>(0, 0, 0)
        for i in 0..<n { mean += SIMD3(filtered[0][i], filtered[1][i], filtered[2][i]) }
        mean /= Double(n)
        var cov = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<n {
            let d = SIMD3(filtered[0][i], filtered[1][i], filtered[2][i]) - mean
            for r in 0..<3 { for s in 0..<3 { cov[r][s] += d[r] * d[s] } }
        }
        for r in 0..<3 { for s in 0..<3 { cov[r][s] /= Double(n) } }
        guard cov.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw .degenerate(reason: "non-finite samples") }
        let eig = SymmetricEigen3(cov)
        let (l1, l2r, l3r) = eig.values
        guard l1 > 0 else { throw .degenerate(reason: "no motion in the window (λ1 = \(l1))") }
        let l2 = max(l2r, 0), l3 = max(l3r, 0)
        var v1 = eig.vectors[0]
        if v1.z < 0 { v1 = -v1 }  // orient up: horizontal part then points away from the source
        let motionAzimuth = atan2(v1.y, v1.x)  // x = north, y = east
        let backAzimuth = Geodesy.normalizedBearing(motionAzimuth * 180 / .pi + 180)
        let h = (v1.x * v1.x + v1.y * v1.y).squareRoot()
        let nEff = min(Double(n), max(1, 2 * (c.filterHighHz - c.filterLowHz) * c.windowSeconds))
        let uPerp = SIMD3(-sin(motionAzimuth), cos(motionAzimuth), 0)
        var variance = 0.0
        for (k, lk) in [(1, l2), (2, l3)] {
            let gap = l1 - lk
            let proj = (eig.vectors[k] * uPerp).sum()
            if gap <= 0 { variance = .infinity; break }
            variance += l1 * lk * proj * proj / (nEff * gap * gap)
        }
        var statSigma = h > 0 ? variance.squareRoot() / h * 180 / .pi : .infinity
        if !statSigma.isFinite { statSigma = 180 }
        statSigma = min(statSigma, 180)
        let sigma = min(180, (statSigma * statSigma + c.modelErrorDegrees * c.modelErrorDegrees).squareRoot())
        let incidence = acos(min(1, abs(v1.z))) * 180 / .pi
        return BackAzimuthEstimate(
            backAzimuthDegrees: backAzimuth, sigmaDegrees: sigma, statisticalSigmaDegrees: statSigma,
            rectilinearity: 1 - (l2 + l3) / (2 * l1), apparentIncidenceDegrees: incidence, eigenvalues: [l1, l2, l3],
            effectiveSampleCount: nEff, windowStart: startTime.adding(
                nanoseconds: SampleBlock.offsetNanoseconds(samples: pick, samplingRateHz: fs)),
            windowSeconds: Double(n) / fs)
    }
}
