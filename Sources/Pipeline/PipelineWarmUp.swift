// Warm-up of the warning path: runs it once on synthetic data through throwaway components, so
// the first real warning of a process does not pay the process's one-time costs.

import Alerting
import EventBuilder
import Magnitude
import Picking
import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReplayPipeline {
    /// Runs the code a warning goes through once, on synthetic data, through throwaway components,
    /// so that the first real warning of the process does not pay one-time costs on its path: lazy
    /// binding of library symbols (libm, Foundation), instantiation of generic type metadata,
    /// first-touch page faults of the code, and process-wide tables built on first use (filter
    /// designs, FFT plans, the locator's travel-time tables of the station pairs). In the live
    /// daemon the first warning of a process is usually an event's Alert; without this, it costs
    /// several times a later one (`quakewarn bench pipeline`, "cold" row).
    ///
    /// **No effect on the outputs.** `self` is not changed: the synthetic data go through
    /// (a) a new pipeline with the same configuration, limited to the streams of up to two
    /// configured stations (noise, then a P-like burst: picker trigger decision, AIC re-pick,
    /// glitch checks, station-parameter windows, onsite polarisation and B–Δ distance, event
    /// builder), and (b) a copy of this pipeline (value semantics: its event builder, warning issuer
    /// and state are copies), given synthetic picks and station-parameter snapshots of one event
    /// so that it issues an Alert and an Update (warning issuer, CAP rendering, canonical JSON).
    /// The only state they share with `self` are process-wide caches of pure functions (filter
    /// designs, FFT plans with FFTW_ESTIMATE, travel-time tables), whose results do not depend on
    /// when they were filled.
    ///
    /// Call it once after ``init(_:)``, before the data flow (it costs a few milliseconds). Calling
    /// it later is allowed and has no effect on the outputs either.
    /// - Returns: what the synthetic data produced (for tests: the paths were exercised).
    @discardableResult
    public func warmUp() -> WarmUpSummary {
        var summary = WarmUpSummary()
        warmUpStations(&summary)
        warmUpWarnings(&summary)
        return summary
    }

    /// What ``warmUp()`` ran (counts of the throwaway outputs).
    public struct WarmUpSummary: Sendable, Equatable {
        /// Picks of the synthetic waveforms (part a).
        public var waveformPicks = 0
        /// Station-parameter-driven event messages and warnings of the synthetic waveforms (part a).
        public var waveformEvents = 0
        public var waveformWarnings = 0
        /// Warnings issued (and rendered as CAP and canonical JSON) from the synthetic event (part b).
        public var eventWarnings = 0
    }

    /// The streams of the first `stations` configured stations with a usable sampling rate (1–1000
    /// Hz): id, rate, gain (counts per m/s²) and a delay of 2 s per station (the synthetic P
    /// arrives later at the second).
    fileprivate func syntheticStreams(stations: Int) -> [(id: StreamID, rate: Double, gain: Double, delaySeconds: Double)] {
        var ids: [(id: StreamID, rate: Double, gain: Double, delaySeconds: Double)] = []
        for (k, s) in configuration.quakeWarn.stations.prefix(stations).enumerated() {
            for ch in s.channels where s.samplingRateHz.isFinite && s.samplingRateHz >= 1 && s.samplingRateHz <= 1000 {
                ids.append((StreamID(network: s.network, station: s.station, location: s.location, channel: ch),
                            s.samplingRateHz, s.sensitivityCountsPerMetersPerSecondSquared, 2.0 * Double(k)))
            }
        }
        return ids
    }

    /// A new pipeline with this configuration whose gating waits for `streams` only (no stall timeout).
    fileprivate func scratchPipeline(streams: [StreamID]) -> ReplayPipeline {
        var c = configuration
        c.expectedStreams = Set(streams)
        c.stallTimeoutSeconds = nil
        return ReplayPipeline(c)
    }

    /// (a) Synthetic waveforms through a new pipeline limited to up to two stations.
    private func warmUpStations(_ summary: inout WarmUpSummary) {
        let ids = syntheticStreams(stations: 2)
        guard !ids.isEmpty else { return }
        var pipeline = scratchPipeline(streams: ids.map(\.id))
        var rng = SplitMix64(seed: 0x5157_4152_4d55_5000)
        let start = Timestamp(nanosecondsSinceEpoch: 946_684_800_000_000_000)  // 2000-01-01
        let seconds = 24
        let pArrivalSeconds = 14.0
        for second in 0..<seconds {
            for (n, s) in ids.enumerated() {
                let count = SampleBlock.sampleCount(seconds: 1, samplingRateHz: s.rate)
                let gain = s.gain.isFinite && s.gain != 0 ? abs(s.gain) : 1
                var samples = [Double](repeating: 0, count: count)
                for i in 0..<count {
                    let t = Double(second) + Double(i) / s.rate - pArrivalSeconds - s.delaySeconds
                    // Noise of 1e-4 m/s²; from the arrival, a decaying 2 Hz burst of 0.2 m/s²
                    // (polarised: largest on the vertical, different on each horizontal).
                    var a = 1e-4 * rng.nextStandardNormal()
                    if t >= 0 {
                        let scale: Double = n % 3 == 2 ? 1 : 0.3 + 0.2 * Double(n % 3)
                        let envelope: Double = exp(-t / 3)
                        a += 0.2 * scale * envelope * sin(2 * Double.pi * 2 * t)
                    }
                    samples[i] = (a * gain).rounded()
                }
                let block = SampleBlock(streamID: s.id, startTime: start.adding(nanoseconds: Int64(second) * 1_000_000_000),
                                        samplingRateHz: s.rate, unit: .counts, samples: samples)
                pipeline.process(block, issued: { m in _ = try? m.canonicalJSON() },
                                 emitDeferringCAP: { r, cap in
                    _ = cap?.render()
                    summary.count(r)
                })
            }
        }
        for r in pipeline.finish() { summary.count(r) }
    }

    /// (b) One synthetic event (pick and snapshot at two stations, or one) through a copy of this
    /// pipeline's event stage: event builder, warning issuer, CAP renderer, canonical JSON.
    private func warmUpWarnings(_ summary: inout WarmUpSummary) {
        runSyntheticEvent(windows: [0.5, 1.0, 2.0], render: true) { summary.eventWarnings += 1 }
    }

    /// Keep-warm of the event stage, between records (ingest.yaml `keepWarmMilliseconds`,
    /// docs/ingest.md "Keep-warm"): one synthetic two-station event (picks and one 1 s snapshot
    /// per station) through a copy of this pipeline's event stage, as part (b) of ``warmUp()``
    /// but without CAP rendering or canonical JSON: the event builder with the grid-search locator
    /// on the configured stations' travel-time tables, the magnitude estimator and the warning
    /// issuer. Nothing is kept and `self` is not changed (see ``warmUp()``), so the outputs do
    /// not depend on it. Why: at the stations' real-time pace the daemon is idle for most of each
    /// second and the caches go cold (on a shared host the L3 too); a record then runs several
    /// times slower than with warm caches (`quakewarn bench pipeline --evict-kib 65536` against
    /// the default 4096; Benchmarks/README.md, session 10). Running the code and touching the
    /// tables a few milliseconds before the next packet keeps them in the caches.
    /// - Returns: the number of throwaway warnings issued (for tests: the path ran).
    @discardableResult
    public func keepWarm() -> Int {
        var count = 0
        runSyntheticEvent(windows: [1.0], render: false) { count += 1 }
        return count
    }

    /// The synthetic event of ``warmUpWarnings(_:)`` and ``keepWarm()``: picks at up to two
    /// configured stations from an epicentre 30 km SE of the first, a snapshot per station at each
    /// of `windows` (s after the pick), through a copy of this pipeline; `render`: each warning's
    /// canonical JSON and the deferred CAP XML too. `issued` is called for each warning.
    private func runSyntheticEvent(windows: [Double], render: Bool, issued: () -> Void) {
        let chosen = Array(configuration.quakeWarn.stations.prefix(2))
        guard let first = chosen.first else { return }
        var copy = self
        copy.records.removeAll()
        copy.pending.removeAll()
        copy.deferredCAP = []
        let origin = Timestamp(nanosecondsSinceEpoch: 946_684_800_000_000_000 + 3_600_000_000_000)  // 2000-01-01T01:00Z
        let p0 = GeoPoint(latitudeDegrees: first.latitudeDegrees, longitudeDegrees: first.longitudeDegrees)
        let epicenter = Geodesy.destination(from: p0, bearingDegrees: 135, distanceKilometers: 30)
        let vp = configuration.quakeWarn.alerting.pWaveVelocityKilometersPerSecond
        var inputs: [EventBuilderInput] = []
        for (k, s) in chosen.enumerated() {
            let position = GeoPoint(latitudeDegrees: s.latitudeDegrees, longitudeDegrees: s.longitudeDegrees)
            let d = Geodesy.distanceKilometers(from: position, to: epicenter)
            let travel = (d * d + 100).squareRoot() / (vp.isFinite && vp > 0 ? vp : 6)
            guard travel.isFinite else { continue }
            let pickTime = origin.adding(nanoseconds: Int64((travel * 1e9).rounded()))
            let code = "\(s.network).\(s.station)"
            let id = StreamID(network: s.network, station: s.station, location: s.location, channel: s.channels.first ?? "HNZ")
            inputs.append(.pick(StationPick(station: code, streamID: id, time: pickTime, snr: 30, grade: "A")))
            let baz = BackAzimuthEstimate(
                backAzimuthDegrees: Geodesy.normalizedBearing(Geodesy.bearingDegrees(from: position, to: epicenter)),
                sigmaDegrees: 5, statisticalSigmaDegrees: 3, rectilinearity: 0.9, apparentIncidenceDegrees: 30,
                eigenvalues: [1, 0.05, 0.05], effectiveSampleCount: 18, windowStart: pickTime, windowSeconds: 1)
            let distance = EpicentralDistanceEstimate(kilometers: d, log10Sigma: 0.2, method: .given)
            for (w, window) in windows.enumerated() {
                // Pd for M ≈ 6 at 30 km (above any usual alert threshold), τc of a large event.
                let pd = 8e-4
                let parameters = StationParameters(
                    pickSample: 6000, pickTime: pickTime, windowSampleCount: Int(window * 100), secondsAfterPick: window,
                    isFinal: w == windows.count - 1, windowEndedBySWave: false, hypocentralDistanceKilometers: nil, preEventSeconds: 60,
                    preEventPeakDisplacementMeters: 1e-7, peakDisplacementMeters: pd, peakVelocityMetersPerSecond: pd * 10,
                    peakAccelerationMetersPerSecondSquared: pd * 100, tauCSeconds: 1.2, tauPMaxSeconds: 1.1,
                    peakGroundAccelerationMetersPerSecondSquared: pd * 100, peakGroundVelocityMetersPerSecond: pd * 10)
                inputs.append(.snapshot(StationSnapshot(station: code, pickTime: pickTime,
                                                        time: pickTime.adding(nanoseconds: Int64((window * 1e9).rounded())),
                                                        parameters: parameters, backAzimuth: baz,
                                                        distance: k == 0 ? distance : nil)))
            }
        }
        inputs.sort { $0.time < $1.time }
        for input in inputs {
            copy.ingest(input, issued: { m in
                if render { _ = try? m.canonicalJSON() }
                issued()
            })
        }
        guard render else { return }
        for job in copy.deferredCAP ?? [] {
            _ = PendingCAP(message: job.message, earlier: job.earlier, renderer: copy.renderer).render()
        }
        if let last = inputs.last {
            copy.deferredCAP = nil
            copy.advanceClock(to: last.time.adding(nanoseconds: 120_000_000_000), issued: { _ in })
        }
    }
}

extension ReplayPipeline.WarmUpSummary {
    fileprivate mutating func count(_ r: PipelineRecord) {
        switch r {
        case .pick: waveformPicks += 1
        case .event: waveformEvents += 1
        case .warning: waveformWarnings += 1
        default: break
        }
    }
}

/// Keep-warm of the whole record path between records (the ingest daemon's `keepWarmMilliseconds`
/// timer, docs/ingest.md "Keep-warm"): each ``run(eventStageOf:)`` feeds 0.25 s of synthetic noise
/// on the first configured station's streams through a scratch pipeline of its own (the station
/// chain: filters, picker, glitch checks, station parameters, onsite analyser), then runs
/// ``ReplayPipeline/keepWarm()`` on the live pipeline (the event stage, on a copy). The live
/// pipeline's data are not touched and its outputs do not depend on this; the scratch
/// pipeline's outputs are discarded. Its data time starts at 2000-01-01 and advances 0.25 s per
/// run; its memory is bounded as a live station's is (the same ring buffers).
public struct PipelineKeepWarm: Sendable {
    private(set) var scratch: ReplayPipeline?
    private let streams: [(id: StreamID, rate: Double, gain: Double)]
    private var next = Timestamp(nanosecondsSinceEpoch: 946_684_800_000_000_000)
    private var rng = SplitMix64(seed: 0x4b45_4550_5741_524d)

    /// A keep-warm for pipelines with `live`'s configuration (the scratch pipeline is built here).
    public init(configuration live: ReplayPipeline) {
        let ids = live.syntheticStreams(stations: 1)
        streams = ids.map { ($0.id, $0.rate, $0.gain.isFinite && $0.gain != 0 ? abs($0.gain) : 1) }
        scratch = ids.isEmpty ? nil : live.scratchPipeline(streams: ids.map(\.id))
    }

    /// One keep-warm pass (see the type). Returns the number of throwaway warnings of the event stage.
    @discardableResult
    public mutating func run(eventStageOf live: ReplayPipeline) -> Int {
        if var pipeline = scratch {
            scratch = nil  // unique while it is mutated (no copy of its buffers)
            for s in streams {
                let count = SampleBlock.sampleCount(seconds: 0.25, samplingRateHz: s.rate)
                var samples = [Double](repeating: 0, count: count)
                for i in 0..<count { samples[i] = (1e-4 * rng.nextStandardNormal() * s.gain).rounded() }
                pipeline.process(SampleBlock(streamID: s.id, startTime: next, samplingRateHz: s.rate, unit: .counts,
                                             samples: samples),
                                 issued: { _ in }, emitDeferringCAP: { _, _ in })
            }
            scratch = pipeline
            next = next.adding(nanoseconds: 250_000_000)
        }
        return live.keepWarm()
    }
}
