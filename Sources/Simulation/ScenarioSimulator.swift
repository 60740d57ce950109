public import SeismicCore
internal import SignalProcessing
internal import MiniSEED
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scenario earthquake: moment magnitude, hypocentre and origin time.
public struct ScenarioEarthquake: Sendable, Equatable {
    /// Moment magnitude Mw, 2...8.5.
    public var momentMagnitude: Double
    /// Epicentre latitude, degrees north, −90...90.
    public var latitudeDegrees: Double
    /// Epicentre longitude, degrees east, −180...180.
    public var longitudeDegrees: Double
    /// Hypocentral depth below the surface in km, 0...700.
    public var depthKilometers: Double
    public var originTime: Timestamp

    public init(momentMagnitude: Double, latitudeDegrees: Double, longitudeDegrees: Double,
                depthKilometers: Double, originTime: Timestamp) {
        self.momentMagnitude = momentMagnitude
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
        self.depthKilometers = depthKilometers
        self.originTime = originTime
    }

    /// The accepted magnitude range. Below Mw 2 the noise floor hides the event; above 8.5 a
    /// point source is meaningless.
    public static let magnitudeRange: ClosedRange<Double> = 2...8.5

    /// Checks the ranges documented on the properties.
    public func validate() throws(SimulationError) {
        guard momentMagnitude.isFinite, Self.magnitudeRange.contains(momentMagnitude) else {
            throw SimulationError(field: "magnitude", reason: "\(momentMagnitude) is outside 2...8.5 (Mw)")
        }
        guard latitudeDegrees.isFinite, (-90...90).contains(latitudeDegrees) else {
            throw SimulationError(field: "latitude", reason: "\(latitudeDegrees) is outside -90...90 degrees")
        }
        guard longitudeDegrees.isFinite, (-180...180).contains(longitudeDegrees) else {
            throw SimulationError(field: "longitude", reason: "\(longitudeDegrees) is outside -180...180 degrees")
        }
        guard depthKilometers.isFinite, (0...700).contains(depthKilometers) else {
            throw SimulationError(field: "depth", reason: "\(depthKilometers) km is outside 0...700 km")
        }
    }
}

/// Recording and noise settings of a scenario.
public struct ScenarioConfiguration: Sendable, Equatable {
    /// Sampling rate in Hz. Default 100 (the HN* channels of the plan).
    public var samplingRateHz: Double = 100
    /// Noise before the P arrival in seconds, so that pickers (LTA windows of 10 s) and the
    /// magnitude chain can warm up. Default 30 s.
    public var preEventSeconds: Double = 30
    /// The records end at origin time + this many seconds. Default 60 s (the S wave of a source
    /// ≈ 150 km away still arrives; choose more for distant scenarios — the result says when the
    /// S window is cut).
    public var durationAfterOriginSeconds: Double = 60
    /// RMS of the station noise in m/s², per channel. Default 1e-4 m/s² (≈ 10 µg): an
    /// order-of-magnitude assumption for a strong-motion accelerometer with a 24-bit digitizer at
    /// a quiet small-town site over 0–40 Hz (instrument self-noise of good force-balance sensors
    /// is lower; cultural noise dominates). 0 turns the noise off (quantisation remains).
    public var noiseRMSMetersPerSecondSquared: Double = 1e-4
    /// The noise is Gaussian white noise low-passed by a 4th-order Butterworth filter at this
    /// corner (Hz), then scaled to exactly the RMS above over the record. Default 40 Hz (0.4 fs).
    public var noiseCornerHz: Double = 40
    /// Digitizer sensitivity in counts per m/s². Default 2^23 counts for 2 g full scale:
    /// 8388608 / (2 · 9.80665) ≈ 427 699.98 counts per m/s² (a ±2 g, 24-bit accelerometer channel).
    public var sensitivityCountsPerMetersPerSecondSquared: Double = 8_388_608 / (2 * 9.80665)
    /// Largest count magnitude; samples beyond ±fullScaleCounts are clipped (and counted).
    /// Default 2^23 − 1 (24-bit).
    public var fullScaleCounts: Double = 8_388_607
    /// The stochastic-model parameters.
    public var model = StochasticModelParameters()
    /// Non-seismic transients injected into the count records (nil: none). See ``GlitchSchedule``.
    public var glitches: GlitchSchedule?

    public init() {}

    /// Checks every setting.
    public func validate() throws(SimulationError) {
        guard samplingRateHz.isFinite, samplingRateHz > 0, samplingRateHz <= 10_000 else {
            throw SimulationError(field: "sampling rate", reason: "\(samplingRateHz) Hz is not in (0, 10000]")
        }
        guard preEventSeconds.isFinite, preEventSeconds >= 0, preEventSeconds <= 3600 else {
            throw SimulationError(field: "pre-event", reason: "\(preEventSeconds) s is not in 0...3600")
        }
        guard durationAfterOriginSeconds.isFinite, durationAfterOriginSeconds > 0, durationAfterOriginSeconds <= 86_400 else {
            throw SimulationError(field: "duration", reason: "\(durationAfterOriginSeconds) s is not in (0, 86400]")
        }
        try glitches?.validate()
        guard noiseRMSMetersPerSecondSquared.isFinite, noiseRMSMetersPerSecondSquared >= 0 else {
            throw SimulationError(field: "noise RMS", reason: "\(noiseRMSMetersPerSecondSquared) m/s² is not a finite number >= 0")
        }
        guard noiseCornerHz.isFinite, noiseCornerHz > 0, noiseCornerHz < samplingRateHz / 2 else {
            throw SimulationError(field: "noise corner", reason: "\(noiseCornerHz) Hz is not in (0, \(samplingRateHz / 2)) Hz")
        }
        guard sensitivityCountsPerMetersPerSecondSquared.isFinite, sensitivityCountsPerMetersPerSecondSquared > 0 else {
            throw SimulationError(field: "sensitivity", reason: "\(sensitivityCountsPerMetersPerSecondSquared) is not a finite number > 0")
        }
        guard fullScaleCounts.isFinite, fullScaleCounts >= 1, fullScaleCounts <= 2_147_483_647 else {
            throw SimulationError(field: "full scale", reason: "\(fullScaleCounts) counts is not in 1...2147483647")
        }
        let m = model
        let positive: [(String, Double)] = [
            ("stress drop", m.stressDropBars), ("density", m.densityGramsPerCubicCentimeter),
            ("S velocity", m.shearVelocityKilometersPerSecond), ("P velocity", m.compressionalVelocityKilometersPerSecond),
            ("Q0", m.qZero), ("window duration factor", m.windowDurationFactor), ("window length factor", m.windowLengthFactor),
            ("P corner ratio", m.pCornerFrequencyRatio),
        ]
        for (name, value) in positive where !(value.isFinite && value > 0) {
            throw SimulationError(field: name, reason: "\(value) is not a finite number > 0")
        }
        let nonNegative: [(String, Double)] = [
            ("kappa", m.kappaSeconds), ("path duration", m.pathDurationSecondsPerKilometer), ("Q exponent", m.qExponent),
            ("S radiation", m.sRadiationCoefficient), ("P radiation", m.pRadiationCoefficient),
            ("free surface", m.freeSurfaceFactor), ("partition", m.horizontalPartition), ("P amplitude scale", m.pAmplitudeScale),
        ]
        for (name, value) in nonNegative where !(value.isFinite && value >= 0) {
            throw SimulationError(field: name, reason: "\(value) is not a finite number >= 0")
        }
        guard m.windowEpsilon > 0, m.windowEpsilon < 1, m.windowEta > 0, m.windowEta < 1 else {
            throw SimulationError(field: "window", reason: "epsilon \(m.windowEpsilon) and eta \(m.windowEta) must be in (0, 1)")
        }
        guard m.pIncidenceAngleDegrees.isFinite, (0...90).contains(m.pIncidenceAngleDegrees) else {
            throw SimulationError(field: "P incidence", reason: "\(m.pIncidenceAngleDegrees) degrees is not in 0...90")
        }
        guard m.qExponent < 1 else {
            throw SimulationError(field: "Q exponent", reason: "\(m.qExponent) must be < 1")
        }
    }
}

/// The synthetic records of one station and what was put into them.
public struct StationSimulation: Sendable {
    public var station: ScenarioStation
    /// Great-circle distance epicentre–station in km.
    public var epicentralDistanceKilometers: Double
    /// `sqrt(Δ² + h²)` in km (straight ray in a homogeneous medium; elevation ignored).
    public var hypocentralDistanceKilometers: Double
    /// Azimuth from the station towards the epicentre, degrees clockwise from north.
    public var backAzimuthDegrees: Double
    /// Theoretical P arrival: origin + R/α (rounded to the nanosecond).
    public var pArrival: Timestamp
    /// Theoretical S arrival: origin + R/β.
    public var sArrival: Timestamp
    /// Index of the first sample at or after ``pArrival`` (the first sample carrying P energy).
    public var pArrivalSampleIndex: Int
    /// Index of the first sample at or after ``sArrival``.
    public var sArrivalSampleIndex: Int
    /// The recorded channels HNZ, HNN, HNE in integer counts (unit `.counts`), as written.
    public var countBlocks: [SampleBlock]
    /// The earthquake signal alone (no noise, no quantisation), HNZ, HNN, HNE in m/s².
    public var signalBlocks: [SampleBlock]
    /// Counts per m/s² of every channel.
    public var sensitivityCountsPerMetersPerSecondSquared: Double
    /// Peak ground acceleration of the recorded data: the larger of the two horizontal peak
    /// absolute accelerations (|counts| / sensitivity, noise included), in m/s².
    public var peakHorizontalAccelerationMetersPerSecondSquared: Double
    /// Number of samples clipped at full scale (all channels).
    public var clippedSampleCount: Int
    /// True when the record ends before the S-wave window (`windowLengthFactor · t_η`) does.
    public var sWindowTruncated: Bool
    /// The glitches injected into ``countBlocks`` (empty without a ``ScenarioConfiguration/glitches`` schedule).
    public var glitches: [InjectedGlitch] = []

    /// The station metadata of the records: position and, per channel, the sensitivity and rate.
    public var metadata: StationMetadata {
        StationMetadata(network: station.network, station: station.station, latitudeDegrees: station.latitudeDegrees,
                        longitudeDegrees: station.longitudeDegrees, elevationMeters: station.elevationMeters,
                        channels: countBlocks.map {
                            ChannelMetadata(location: station.location, channel: $0.streamID.channel,
                                            sensitivityCountsPerMetersPerSecondSquared: sensitivityCountsPerMetersPerSecondSquared,
                                            samplingRateHz: $0.samplingRateHz)
                        })
    }
}

/// Makes 3-component acceleration records of a scenario earthquake for a station.
///
/// Per station, with R the hypocentral distance and az the azimuth epicentre → station:
/// - P, SH and SV are three independent stochastic wave trains (``StochasticSynthesis``) from
///   independent seeded noise; P starts at `t_P = R/α`, SH and SV at `t_S = R/β`.
/// - Partition (a simple ray-theory picture, documented assumption): P moves along the ray,
///   arriving at the incidence angle i (``StochasticModelParameters/pIncidenceAngleDegrees``);
///   SV is perpendicular to the ray in the radial–vertical plane with incidence j,
///   `sin j = sin i · β/α`; SH is transverse.
///   ```
///   Z = c_z · P − sin j · SV            (up)
///   Rad = c_r · P + cos j · SV          (horizontal, away from the epicentre)
///   T = SH                              (horizontal, Rad rotated 90° clockwise)
///   N = Rad · cos az − T · sin az,  E = Rad · sin az + T · cos az
///   ```
///   where (c_z, c_r) are the exact free-surface P coefficients over 2
///   (``pFreeSurfaceFactors(incidenceRadians:pVelocity:sVelocity:)``; ≈ cos i, sin i),
///   so the vertical is dominated by P and the horizontals by S. Each S component carries the
///   partition V = 1/√2 of Boore 2003 (so N and E each have, on average, the one-component S
///   spectrum of the model); the P spectrum is for the whole P motion along the ray.
/// - Noise: per channel, seeded Gaussian white noise low-passed at
///   ``ScenarioConfiguration/noiseCornerHz`` (4th-order Butterworth, 2 s of discarded warm-up),
///   scaled to exactly ``ScenarioConfiguration/noiseRMSMetersPerSecondSquared`` over the record.
/// - Digitizer: counts = round(acceleration × sensitivity) (to nearest, ties away from zero),
///   clipped to ±full scale.
///
/// Record: from the first sample at or before `t_P − preEventSeconds` (on the grid
/// origin + k/rate, start rounded to the microsecond for miniSEED) to origin +
/// ``ScenarioConfiguration/durationAfterOriginSeconds``.
///
/// Seeds: every random stream (P, SH, SV, the noise of each channel) gets its own generator,
/// seeded from the scenario seed and a label (`NET.STA.LOC/P`, …/SH, …/SV, …/noise/HNZ, …) by
/// FNV-1a hashing, so a station's records do not depend on which other stations are simulated.
/// Same inputs and seed → bit-identical samples (FFTW plans are `FFTW_ESTIMATE`, deterministic).
public struct ScenarioSimulator: Sendable {
    public var earthquake: ScenarioEarthquake
    public var configuration: ScenarioConfiguration
    public var seed: UInt64

    /// - Throws: ``SimulationError`` if the earthquake or the configuration is invalid.
    public init(earthquake: ScenarioEarthquake, configuration: ScenarioConfiguration = ScenarioConfiguration(),
                seed: UInt64) throws(SimulationError) {
        try earthquake.validate()
        try configuration.validate()
        self.earthquake = earthquake
        self.configuration = configuration
        self.seed = seed
    }

    public var source: StochasticPointSource {
        StochasticPointSource(momentMagnitude: earthquake.momentMagnitude, parameters: configuration.model)
    }

    /// A generator for the random stream `label`, derived from the scenario seed.
    public static func generator(seed: UInt64, label: String) -> SplitMix64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a 64 offset basis
        for byte in label.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3  // FNV prime
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        return SplitMix64(seed: mixer.next())
    }

    /// Simulates one station.
    ///
    /// - Throws: ``SimulationError`` if the record would end before the P arrival, or for an
    ///   internal FFT/filter failure.
    public func simulate(_ station: ScenarioStation) throws(SimulationError) -> StationSimulation {
        let config = configuration
        let fs = config.samplingRateHz
        let eq = earthquake
        let epicentre = GeoPoint(latitudeDegrees: eq.latitudeDegrees, longitudeDegrees: eq.longitudeDegrees)
        let site = GeoPoint(latitudeDegrees: station.latitudeDegrees, longitudeDegrees: station.longitudeDegrees)
        let delta = Geodesy.distanceKilometers(from: epicentre, to: site)
        let r = (delta * delta + eq.depthKilometers * eq.depthKilometers).squareRoot()
        let backAzimuth = Geodesy.bearingDegrees(from: site, to: epicentre)
        let azimuth = Geodesy.bearingDegrees(from: epicentre, to: site)
        let src = source
        let tP = r / src.velocityKilometersPerSecond(.p)
        let tS = r / src.velocityKilometersPerSecond(.s)
        let origin = eq.originTime
        let pArrival = origin.adding(nanoseconds: Int64((tP * 1e9).rounded()))
        let sArrival = origin.adding(nanoseconds: Int64((tS * 1e9).rounded()))

        // Record start: on the origin-aligned grid, at or before t_P − pre-event, in whole µs.
        let k0 = Int(((tP - config.preEventSeconds) * fs).rounded(.down))
        let gridStart = origin.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: k0, samplingRateHz: fs))
        guard let start = Timestamp(microsecondsSinceEpoch: gridStart.microsecondsSinceEpoch) else {
            throw SimulationError(field: "origin time", reason: "\(origin) is out of range")
        }
        let end = origin.adding(nanoseconds: Int64((config.durationAfterOriginSeconds * 1e9).rounded()))
        guard end > pArrival else {
            throw SimulationError(field: "duration", reason: "station \(station.code): the record ends at \(end), before the P arrival at \(pArrival); increase the duration")
        }
        let count = Int((end.seconds(since: start) * fs).rounded(.down)) + 1
        let template = SampleBlock(streamID: StreamID(network: station.network, station: station.station,
                                                      location: station.location, channel: "HNZ"),
                                   startTime: start, samplingRateHz: fs, unit: .metersPerSecondSquared, samples: [])
        func firstSample(atOrAfter t: Timestamp) -> Int {
            var i = max(0, Int((t.seconds(since: start) * fs).rounded(.up)))
            while i > 0, template.time(ofSample: i - 1) >= t { i -= 1 }
            while template.time(ofSample: i) < t { i += 1 }
            return i
        }
        let iP = firstSample(atOrAfter: pArrival)
        let iS = firstSample(atOrAfter: sArrival)
        let delayP = template.time(ofSample: iP).seconds(since: pArrival)
        let delayS = template.time(ofSample: iS).seconds(since: sArrival)

        var pGenerator = Self.generator(seed: seed, label: station.code + "/P")
        var shGenerator = Self.generator(seed: seed, label: station.code + "/SH")
        var svGenerator = Self.generator(seed: seed, label: station.code + "/SV")
        let p = try StochasticSynthesis.waveTrain(source: src, wave: .p, hypocentralDistanceKilometers: r, samplingRateHz: fs,
                                                  firstSampleDelaySeconds: delayP, generator: &pGenerator)
        let sh = try StochasticSynthesis.waveTrain(source: src, wave: .s, hypocentralDistanceKilometers: r, samplingRateHz: fs,
                                                   firstSampleDelaySeconds: delayS, generator: &shGenerator)
        let sv = try StochasticSynthesis.waveTrain(source: src, wave: .s, hypocentralDistanceKilometers: r, samplingRateHz: fs,
                                                   firstSampleDelaySeconds: delayS, generator: &svGenerator)
        let sWindowSeconds = config.model.windowLengthFactor * config.model.windowDurationFactor
            * src.durationSeconds(.s, hypocentralDistanceKilometers: r)
        let sWindowTruncated = sArrival.adding(nanoseconds: Int64((sWindowSeconds * 1e9).rounded())) > end

        let incidenceP = config.model.pIncidenceAngleDegrees * Double.pi / 180
        let sinJ = sin(incidenceP) * src.velocityKilometersPerSecond(.s) / src.velocityKilometersPerSecond(.p)
        let cosJ = (1 - sinJ * sinJ).squareRoot()
        let (cosI, sinI) = Self.pFreeSurfaceFactors(incidenceRadians: incidenceP, pVelocity: src.velocityKilometersPerSecond(.p),
                                                    sVelocity: src.velocityKilometersPerSecond(.s))
        let az = azimuth * Double.pi / 180
        let (cosAz, sinAz) = (cos(az), sin(az))

        var z = [Double](repeating: 0, count: count)
        var north = [Double](repeating: 0, count: count)
        var east = [Double](repeating: 0, count: count)
        for i in iP..<count {
            let k = i - iP
            guard k < p.samples.count else { break }
            let value = p.samples[k]
            z[i] += cosI * value
            let radial = sinI * value
            north[i] += radial * cosAz
            east[i] += radial * sinAz
        }
        if iS < count {
            for i in iS..<count {
                let k = i - iS
                guard k < sh.samples.count, k < sv.samples.count else { break }
                let radial = cosJ * sv.samples[k]
                let transverse = sh.samples[k]
                z[i] -= sinJ * sv.samples[k]
                north[i] += radial * cosAz - transverse * sinAz
                east[i] += radial * sinAz + transverse * cosAz
            }
        }

        var countBlocks: [SampleBlock] = []
        var signalBlocks: [SampleBlock] = []
        var clipped = 0
        var pga = 0.0
        let sensitivity = config.sensitivityCountsPerMetersPerSecondSquared
        var glitches: [InjectedGlitch] = []
        if let schedule = config.glitches {
            var g = Self.generator(seed: seed, label: station.code + "/glitches")
            glitches = schedule.draw(count: count, samplingRateHz: fs,
                                     noiseRMSCounts: max(config.noiseRMSMetersPerSecondSquared, 1e-6) * sensitivity,
                                     start: start, generator: &g)
        }
        for (channel, signal) in zip(ScenarioStation.channelCodes, [z, north, east]) {
            let id = StreamID(network: station.network, station: station.station, location: station.location, channel: channel)
            var noiseGenerator = Self.generator(seed: seed, label: station.code + "/noise/" + channel)
            let noise = try Self.noise(count: count, configuration: config, generator: &noiseGenerator)
            var counts = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var c = ((signal[i] + noise[i]) * sensitivity).rounded()
                if c > config.fullScaleCounts {
                    c = config.fullScaleCounts
                    clipped += 1
                } else if c < -config.fullScaleCounts - 1 {
                    c = -config.fullScaleCounts - 1
                    clipped += 1
                }
                counts[i] = c
            }
            GlitchSchedule.apply(glitches, channel: channel, to: &counts, fullScale: config.fullScaleCounts)
            if channel != "HNZ" { for c in counts { pga = max(pga, abs(c) / sensitivity) } }
            countBlocks.append(SampleBlock(streamID: id, startTime: start, samplingRateHz: fs, unit: .counts, samples: counts))
            signalBlocks.append(SampleBlock(streamID: id, startTime: start, samplingRateHz: fs, unit: .metersPerSecondSquared,
                                            samples: signal))
        }
        return StationSimulation(station: station, epicentralDistanceKilometers: delta, hypocentralDistanceKilometers: r,
                                 backAzimuthDegrees: backAzimuth, pArrival: pArrival, sArrival: sArrival,
                                 pArrivalSampleIndex: iP, sArrivalSampleIndex: iS, countBlocks: countBlocks,
                                 signalBlocks: signalBlocks, sensitivityCountsPerMetersPerSecondSquared: sensitivity,
                                 peakHorizontalAccelerationMetersPerSecondSquared: pga, clippedSampleCount: clipped,
                                 sWindowTruncated: sWindowTruncated, glitches: glitches)
    }

    /// The vertical and radial free-surface displacement of a unit plane P wave incident at `i`
    /// on the free surface of a half-space, **divided by 2** (the spectrum already carries
    /// F = 2), so that they replace the ray projection (cos i, sin i):
    /// ```
    /// p = sin i / α,  η_α = cos i / α,  η_β = cos j / β,  D = (1/β² − 2p²)² + 4 p² η_α η_β
    /// u_z = 2 α η_α (1/β² − 2p²) / (β² D),   u_r = 4 α p η_α η_β / (β² D)
    /// ```
    /// (Aki & Richards 2002, §5.2.4, free-surface reflection of P–SV; at i = 0: u_z = 2, u_r = 0).
    /// For i = 30°, α/β = √3: u_z/2 = 0.845, u_r/2 = 0.561 (ray projection: 0.866, 0.5).
    public static func pFreeSurfaceFactors(incidenceRadians i: Double, pVelocity a: Double, sVelocity b: Double) -> (Double, Double) {
        let p = sin(i) / a
        let sinJ = min(1, p * b)
        let etaA = cos(i) / a
        let etaB = (1 - sinJ * sinJ).squareRoot() / b
        let q = 1 / (b * b) - 2 * p * p
        let d = q * q + 4 * p * p * etaA * etaB
        guard d > 0 else { return (cos(i), sin(i)) }
        let uz = 2 * a * etaA * q / (b * b * d)
        let ur = 4 * a * p * etaA * etaB / (b * b * d)
        return (uz / 2, ur / 2)
    }

    /// Seconds of noise generated and discarded before the record (low-pass warm-up).
    static let noiseWarmUpSeconds = 2.0

    /// Band-limited Gaussian noise of `count` samples with RMS exactly the configured level.
    static func noise(count: Int, configuration config: ScenarioConfiguration,
                      generator: inout SplitMix64) throws(SimulationError) -> [Double] {
        guard config.noiseRMSMetersPerSecondSquared > 0, count > 0 else { return [Double](repeating: 0, count: count) }
        let warmUp = SampleBlock.sampleCount(seconds: noiseWarmUpSeconds, samplingRateHz: config.samplingRateHz)
        var white = [Double](repeating: 0, count: warmUp + count)
        for i in white.indices { white[i] = generator.nextStandardNormal() }
        var filter: ButterworthFilter
        do {
            filter = try ButterworthFilter(.lowpass(cornerHz: config.noiseCornerHz), order: 4, samplingRateHz: config.samplingRateHz)
        } catch {
            throw SimulationError(field: "noise corner", reason: "\(error)")
        }
        filter.process(&white)
        var noise = Array(white[warmUp...])
        var sumSquares = 0.0
        for x in noise { sumSquares += x * x }
        let rms = (sumSquares / Double(count)).squareRoot()
        guard rms > 0 else { return noise }
        let scale = config.noiseRMSMetersPerSecondSquared / rms
        for i in noise.indices { noise[i] *= scale }
        return noise
    }

    /// Writes the station's three count channels to `path` as Steim-2 miniSEED (512-byte
    /// records, the usual real-time record size, so the files can also be fed as SeedLink).
    public static func writeMiniSEED(_ simulation: StationSimulation, to path: String) throws(SimulationError) {
        do {
            try MiniSEEDWriter.write(simulation.countBlocks, encoding: .steim2, recordLength: 512, to: path)
        } catch {
            throw SimulationError(field: "output '\(path)'", reason: "\(error)")
        }
    }
}
