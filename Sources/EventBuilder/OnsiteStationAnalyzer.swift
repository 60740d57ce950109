// Streaming glue for one 3-component station: buffers the blocks and, for each pick, emits the
// polarisation back-azimuth and the B–Δ envelope distance as soon as their windows are complete,
// and the S onset on the horizontals when it is found.

public import SeismicCore

/// Streaming onsite analysis of one 3-component station.
///
/// Feed every block of the station's three channels (component from the last character of the
/// channel code: `Z`/`3` vertical, `N`/`1` north, `E`/`2` east; same sampling rate) with
/// ``process(_:)`` and every pick with ``addPick(_:)`` (before or after its data). For each pick:
/// - when all three components cover `[pick − leadSeconds, pick + polarisation window)`, the
///   ``PolarizationAnalyzer`` result is emitted (`.backAzimuth`);
/// - when the vertical covers `[pick − leadSeconds, pick + envelope window)`, the
///   ``EnvelopeDistanceEstimator`` result is emitted (`.distance`), computed on vertical
///   acceleration in m/s² (samples divided by ``Configuration/verticalCountsPerMetersPerSecondSquared``
///   if given);
/// - at the data times `pick + searchStart + j · interval` (j = 1, 2, …) while both horizontals
///   cover them, ``SPhaseDetector`` looks for the S onset; the first accepted one is emitted
///   (`.sArrival`) and the search ends there or at ``SPhaseDetector/maximumSMinusPSeconds``.
/// If the stream started less than `leadSeconds` before the pick, the analysis starts at the
/// segment start. The analysed sample range depends only on the pick and the segment start, so
/// the outputs are **identical for any chunking** of the input (tested), provided the three
/// components are not out of step by more than `bufferSeconds − leadSeconds − window` (older
/// samples are trimmed).
///
/// A gap or overlap on a component (start time off by more than half a sample) restarts that
/// component's buffer at the new block.
/// - Complexity: amortised O(block) per block; analysis O(window) once per pick.
public struct OnsiteStationAnalyzer: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var polarization: PolarizationAnalyzer.Configuration
        public var envelope: EnvelopeDistanceEstimator
        /// S onset search on the horizontals.
        public var sPhase: SPhaseDetector
        /// Data used before the pick (filter warm-up, envelope offset), s.
        public var leadSeconds: Double
        /// History kept per component, s (≥ lead + the longer window + the skew between components).
        public var bufferSeconds: Double
        /// Vertical gain to convert to m/s² for B–Δ; nil if the samples are already m/s².
        public var verticalCountsPerMetersPerSecondSquared: Double?

        public init(polarization: PolarizationAnalyzer.Configuration = .init(), envelope: EnvelopeDistanceEstimator = .init(),
                    sPhase: SPhaseDetector = .init(), leadSeconds: Double = 3, bufferSeconds: Double = 30,
                    verticalCountsPerMetersPerSecondSquared: Double? = nil) {
            self.polarization = polarization
            self.envelope = envelope
            self.sPhase = sPhase
            self.leadSeconds = leadSeconds
            self.bufferSeconds = bufferSeconds
            self.verticalCountsPerMetersPerSecondSquared = verticalCountsPerMetersPerSecondSquared
        }
    }

    public enum Output: Sendable, Equatable {
        case backAzimuth(pickTime: Timestamp, BackAzimuthEstimate)
        case distance(pickTime: Timestamp, fit: EnvelopeFit, EpicentralDistanceEstimate)
        /// The S onset on the horizontals (``SPhaseDetector``), with its after/before variance ratio;
        /// `availableAt` is the data time of the evaluation that found it.
        case sArrival(pickTime: Timestamp, time: Timestamp, energyRatio: Double, horizontalToVerticalChange: Double,
                      availableAt: Timestamp)
        /// The analysis of a pick failed (reason text from the typed error).
        case failed(pickTime: Timestamp, what: String, reason: String)
    }

    private struct Component: Sendable {
        var segmentStart: Int?  // global index of the segment's first sample
        var start = 0           // global index of samples[0]
        var samples: [Double] = []
        var end: Int { start + samples.count }
    }

    private struct Pending: Sendable {
        var time: Timestamp
        var index: Int
        var polarizationDone = false
        var distanceDone = false
        var sDone = false
        /// Evaluations of the S search done so far.
        var sEvaluations = 0
    }

    public let configuration: Configuration
    public let samplingRateHz: Double
    private var reference: Timestamp?
    private var components = [Component](repeating: Component(), count: 3)  // N, E, Z
    private var pending: [Pending] = []
    /// Two AIC functions of one S window (reserved once).
    private var sScratch: [Double] = []

    /// Lead, buffer and window lengths are clamped to [0, 600] s and a non-finite or non-positive
    /// rate makes ``process(_:)`` ignore every block (configuration comes from files).
    public init(_ configuration: Configuration = Configuration(), samplingRateHz: Double) {
        var c = configuration
        func clamp(_ x: Double) -> Double { x.isFinite ? min(max(x, 0), 600) : 0 }
        c.leadSeconds = clamp(c.leadSeconds)
        c.bufferSeconds = clamp(c.bufferSeconds)
        c.polarization.windowSeconds = clamp(c.polarization.windowSeconds)
        c.envelope.windowSeconds = clamp(c.envelope.windowSeconds)
        c.sPhase.windowSeconds = min(clamp(c.sPhase.windowSeconds), c.bufferSeconds)
        c.sPhase.searchStartSeconds = clamp(c.sPhase.searchStartSeconds)
        c.sPhase.maximumSMinusPSeconds = clamp(c.sPhase.maximumSMinusPSeconds)
        c.sPhase.minimumAfterOnsetSeconds = clamp(c.sPhase.minimumAfterOnsetSeconds)
        c.sPhase.comparisonSeconds = clamp(c.sPhase.comparisonSeconds)
        c.sPhase.evaluationIntervalSeconds = max(clamp(c.sPhase.evaluationIntervalSeconds), 0.01)
        self.configuration = c
        self.samplingRateHz = samplingRateHz.isFinite && samplingRateHz > 0 && samplingRateHz < 1e6 ? samplingRateHz : .nan
        reserveBuffers()
    }

    /// Each component's buffer holds at most 2 × `bufferSeconds` plus one block (see
    /// ``process(_:)``): reserved for blocks of up to 512 samples and written once here, so the
    /// steady state neither reallocates nor takes page faults on first writes
    /// (`Array(emptyPrefaulted:filler:)`, as the picker's buffers).
    private mutating func reserveBuffers() {
        guard samplingRateHz.isFinite else { return }
        let keep = SampleBlock.sampleCount(seconds: configuration.bufferSeconds, samplingRateHz: samplingRateHz)
        for k in components.indices {
            components[k].samples = [Double](emptyPrefaulted: 2 * keep + 512, filler: 0)
        }
        let window = SampleBlock.sampleCount(seconds: configuration.sPhase.windowSeconds, samplingRateHz: samplingRateHz)
        sScratch = [Double](repeating: 0, count: 2 * window + 2)
    }

    public mutating func reset() {
        reference = nil
        for k in components.indices {
            components[k].segmentStart = nil
            components[k].start = 0
            components[k].samples.removeAll(keepingCapacity: true)
        }
        pending = []
    }

    private func globalIndex(_ t: Timestamp) -> Int? {
        guard let reference else { return nil }
        let x = (t.seconds(since: reference) * samplingRateHz).rounded()
        guard x.isFinite, abs(x) < 1e15 else { return nil }
        return Int(x)
    }

    /// Adds a block of one component; returns the analyses it completed.
    public mutating func process(_ block: SampleBlock) -> [Output] {
        guard block.samplingRateHz == samplingRateHz, !block.samples.isEmpty else { return [] }
        let k: Int
        switch block.streamID.component {
        case "N", "1": k = 0
        case "E", "2": k = 1
        case "Z", "3": k = 2
        default: return []
        }
        var out: [Output] = []
        if reference == nil {
            reference = block.startTime
            for i in pending.indices { pending[i].index = globalIndex(pending[i].time) ?? Int.min }
            for p in pending where p.index == Int.min {
                out.append(.failed(pickTime: p.time, what: "pick", reason: "pick time is out of range of the stream"))
            }
            pending.removeAll { $0.index == Int.min }
        }
        guard let g = globalIndex(block.startTime) else { return out }
        // Taken out (not copied) so that the append below does not copy the whole 30–60 s buffer
        // (copy-on-write with a second reference in `components`); put back before evaluate().
        var c = Component()
        swap(&c, &components[k])
        let offsetNs = block.startTime.seconds(since: reference ?? block.startTime) * 1e9
            - Double(SampleBlock.offsetNanoseconds(samples: c.end, samplingRateHz: samplingRateHz))
        if c.segmentStart == nil || abs(offsetNs) > 0.5e9 / samplingRateHz {
            c.samples.removeAll(keepingCapacity: true)  // a new segment in the same buffer
            c.segmentStart = g
            c.start = g
        }
        c.samples.append(contentsOf: block.samples)
        let keep = SampleBlock.sampleCount(seconds: configuration.bufferSeconds, samplingRateHz: samplingRateHz)
        if c.samples.count > 2 * keep {
            let drop = c.samples.count - keep
            c.samples.removeFirst(drop)
            c.start += drop
        }
        components[k] = c
        return out + evaluate()
    }

    /// Registers a pick (at any time relative to its data); returns analyses already possible.
    public mutating func addPick(_ time: Timestamp) -> [Output] {
        guard reference == nil || globalIndex(time) != nil else {
            return [.failed(pickTime: time, what: "pick", reason: "pick time is out of range of the stream")]
        }
        pending.append(Pending(time: time, index: globalIndex(time) ?? 0))
        return evaluate()
    }

    private func extract(_ k: Int, from lo: Int, to hi: Int) -> [Double]? {
        let c = components[k]
        guard lo >= c.start, hi <= c.end, lo < hi else { return nil }
        return Array(c.samples[(lo - c.start)..<(hi - c.start)])
    }

    private mutating func evaluate() -> [Output] {
        guard let reference else { return [] }
        var out: [Output] = []
        let fs = samplingRateHz
        let lead = SampleBlock.sampleCount(seconds: configuration.leadSeconds, samplingRateHz: fs)
        let polN = SampleBlock.sampleCount(seconds: configuration.polarization.windowSeconds, samplingRateHz: fs)
        let envN = SampleBlock.sampleCount(seconds: configuration.envelope.windowSeconds, samplingRateHz: fs)
        for i in pending.indices {
            let p = pending[i].index
            if !pending[i].polarizationDone,
               let s0 = components.map(\.segmentStart).reduce(Int?.some(Int.min), { acc, s in
                   guard let acc, let s else { return nil }
                   return max(acc, s)
               }) {
                let lo = max(p - lead, s0)
                if components.allSatisfy({ $0.end >= p + polN }) {
                    pending[i].polarizationDone = true
                    if let n = extract(0, from: lo, to: p + polN), let e = extract(1, from: lo, to: p + polN),
                       let z = extract(2, from: lo, to: p + polN) {
                        let start = reference.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: lo, samplingRateHz: fs))
                        do {
                            let est = try PolarizationAnalyzer(configuration.polarization).estimate(
                                north: n, east: e, vertical: z, startTime: start, samplingRateHz: fs, pickTime: pending[i].time)
                            out.append(.backAzimuth(pickTime: pending[i].time, est))
                        } catch {
                            out.append(.failed(pickTime: pending[i].time, what: "polarisation", reason: error.description))
                        }
                    } else {
                        out.append(.failed(pickTime: pending[i].time, what: "polarisation",
                                           reason: "data for the window are no longer (or not) buffered"))
                    }
                }
            }
            if !pending[i].distanceDone, let s0 = components[2].segmentStart, components[2].end >= p + envN {
                pending[i].distanceDone = true
                let lo = max(p - lead, s0)
                if let z = extract(2, from: lo, to: p + envN) {
                    let gain = configuration.verticalCountsPerMetersPerSecondSquared ?? 1
                    do {
                        let (fit, d) = try configuration.envelope.estimate(
                            verticalAccelerationMetersPerSecondSquared: z.map { $0 / gain }, pickIndex: p - lo,
                            samplingRateHz: fs)
                        out.append(.distance(pickTime: pending[i].time, fit: fit, d))
                    } catch {
                        out.append(.failed(pickTime: pending[i].time, what: "envelope distance", reason: error.description))
                    }
                } else {
                    out.append(.failed(pickTime: pending[i].time, what: "envelope distance",
                                       reason: "data for the window are no longer (or not) buffered"))
                }
            }
        }
        for i in pending.indices where !pending[i].sDone {
            out += searchS(i, reference: reference)
        }
        pending.removeAll { $0.polarizationDone && $0.distanceDone && $0.sDone }
        return out
    }

    /// Runs the S evaluations of pending pick `i` whose windows both horizontals now cover, in
    /// order (fixed global indices: any chunking gives the same evaluations).
    private mutating func searchS(_ i: Int, reference: Timestamp) -> [Output] {
        let fs = samplingRateHz
        let d = configuration.sPhase
        let p = pending[i].index
        let start = p + SampleBlock.sampleCount(seconds: d.searchStartSeconds, samplingRateHz: fs)
        let step = max(1, SampleBlock.sampleCount(seconds: d.evaluationIntervalSeconds, samplingRateHz: fs))
        let window = SampleBlock.sampleCount(seconds: d.windowSeconds, samplingRateHz: fs)
        let last = p + SampleBlock.sampleCount(seconds: d.maximumSMinusPSeconds + d.minimumAfterOnsetSeconds, samplingRateHz: fs)
        while !pending[i].sDone {
            let end = start + (pending[i].sEvaluations + 1) * step
            if end > last + step {
                pending[i].sDone = true
                break
            }
            guard components[0].end >= end, components[1].end >= end, components[2].end >= end else { break }
            pending[i].sEvaluations += 1
            let lo = max(start, end - window, components[0].start, components[1].start, components[2].start,
                         components[0].segmentStart ?? end, components[1].segmentStart ?? end,
                         components[2].segmentStart ?? end)
            guard lo < end else { continue }
            let (c0, c1, c2) = (components[0], components[1], components[2])
            let onset: SPhaseDetector.Onset? = c0.samples.withUnsafeBufferPointer { nb in
                c1.samples.withUnsafeBufferPointer { eb in
                    c2.samples.withUnsafeBufferPointer { zb in
                        sScratch.withUnsafeMutableBufferPointer { scratch in
                            d.evaluate(north: UnsafeBufferPointer(rebasing: nb[(lo - c0.start)..<(end - c0.start)]),
                                       east: UnsafeBufferPointer(rebasing: eb[(lo - c1.start)..<(end - c1.start)]),
                                       vertical: UnsafeBufferPointer(rebasing: zb[(lo - c2.start)..<(end - c2.start)]),
                                       firstIndexAfterP: lo - p, samplingRateHz: fs, scratch: scratch)
                        }
                    }
                }
            }
            if let onset {
                pending[i].sDone = true
                let t = reference.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: lo + onset.index, samplingRateHz: fs))
                let at = reference.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: end, samplingRateHz: fs))
                return [.sArrival(pickTime: pending[i].time, time: t, energyRatio: onset.energyRatio,
                                  horizontalToVerticalChange: onset.horizontalToVerticalChange, availableAt: at)]
            }
        }
        return []
    }
}
