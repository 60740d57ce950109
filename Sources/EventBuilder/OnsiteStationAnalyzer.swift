// Streaming glue for one 3-component station: buffers the blocks and, for each pick, emits the
// polarisation back-azimuth and the B–Δ envelope distance as soon as their windows are complete.

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
///   if given).
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
        /// Data used before the pick (filter warm-up, envelope offset), s.
        public var leadSeconds: Double
        /// History kept per component, s (≥ lead + the longer window + the skew between components).
        public var bufferSeconds: Double
        /// Vertical gain to convert to m/s² for B–Δ; nil if the samples are already m/s².
        public var verticalCountsPerMetersPerSecondSquared: Double?

        public init(polarization: PolarizationAnalyzer.Configuration = .init(), envelope: EnvelopeDistanceEstimator = .init(),
                    leadSeconds: Double = 3, bufferSeconds: Double = 30,
                    verticalCountsPerMetersPerSecondSquared: Double? = nil) {
            self.polarization = polarization
            self.envelope = envelope
            self.leadSeconds = leadSeconds
            self.bufferSeconds = bufferSeconds
            self.verticalCountsPerMetersPerSecondSquared = verticalCountsPerMetersPerSecondSquared
        }
    }

    public enum Output: Sendable, Equatable {
        case backAzimuth(pickTime: Timestamp, BackAzimuthEstimate)
        case distance(pickTime: Timestamp, fit: EnvelopeFit, EpicentralDistanceEstimate)
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
    }

    public let configuration: Configuration
    public let samplingRateHz: Double
    private var reference: Timestamp?
    private var components = [Component](repeating: Component(), count: 3)  // N, E, Z
    private var pending: [Pending] = []

    /// Lead, buffer and window lengths are clamped to [0, 600] s and a non-finite or non-positive
    /// rate makes ``process(_:)`` ignore every block (configuration comes from files).
    public init(_ configuration: Configuration = Configuration(), samplingRateHz: Double) {
        var c = configuration
        func clamp(_ x: Double) -> Double { x.isFinite ? min(max(x, 0), 600) : 0 }
        c.leadSeconds = clamp(c.leadSeconds)
        c.bufferSeconds = clamp(c.bufferSeconds)
        c.polarization.windowSeconds = clamp(c.polarization.windowSeconds)
        c.envelope.windowSeconds = clamp(c.envelope.windowSeconds)
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
        pending.removeAll { $0.polarizationDone && $0.distanceDone }
        return out
    }
}
