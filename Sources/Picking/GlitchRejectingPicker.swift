public import SeismicCore
public import SignalProcessing

/// A streaming single-channel P picker with false-trigger rejection:
///
/// ```
/// raw ─► −offset ─► Butterworth filter ─► recursive STA/LTA ─► TriggerStateMachine
///          ▲                                                        │ triggerOn
///          └── repair + replay ◄── GlitchDetector ◄── AICRepicker ◄─┘ (at trigger + post)
/// ```
///
/// 1. Each continuous segment has its first sample subtracted (so the filter does not ring on the
///    DC offset), then the ``Configuration/filter`` (default 4th-order band-pass 1–20 Hz) and a
///    recursive STA/LTA (default 0.5 s / 10 s) run continuously.
/// 2. The ``TriggerStateMachine`` (default on 3.5, off 0.5, SeisComP dead time) declares triggers.
/// 3. When `postTriggerSeconds` of data after a trigger are available, the trigger is checked:
///    the ``GlitchDetector`` inspects the un-filtered samples from `onset − glitchGuardSeconds`
///    to now, with the samples before as the noise reference. Without glitches, the
///    ``AICRepicker`` result on the filtered stream decides (pick, or rejection for low SNR).
///    With glitches, the samples are **repaired** (spikes interpolated, steps removed from then on,
///    dropout and clipped runs replaced by the preceding level), the filter and STA/LTA are
///    rolled back to a snapshot before the glitch and re-run on the repaired samples, and the
///    AIC re-pick is repeated: if it still finds an onset with SNR ≥ minimum, the pick is kept
///    (a real event coinciding with a glitch, or a clipped real event); otherwise the trigger is
///    rejected as a glitch, withdrawn as a dead-time reference and the trigger machine re-armed.
///    Because the repaired samples feed the LTA, a rejected spike or step does not desensitise
///    the picker for the following tens of seconds.
/// 4. **Gaps and overlaps**: a block whose start differs from the expected time by more than
///    `gapToleranceSamples` sample intervals resets everything (filter, STA/LTA, trigger state,
///    dead-time reference, buffers); pending triggers are reported as discarded. After a reset the
///    recursive STA/LTA is 0 for `ltaSeconds` (its warm-up), so neither a gap edge nor the filter
///    start-up can produce a pick. A block at another sampling rate also resets and is ignored.
///
/// Latency: a pick is reported `postTriggerSeconds` (default 0.5 s) after its trigger sample (or
/// when the trigger is declared, if later), plus the filter's group delay. Output is identical for
/// any chunking of the input (decisions happen at fixed sample indices; tested).
/// Units: input in any unit (counts for the default clip level of 2^23); times in seconds.
/// - Complexity: O(order + 1) per sample for the chain; a trigger check costs O(window).
///   Without a pending trigger, `process` does not allocate (for blocks up to 512 samples; larger
///   ones grow the buffers once): the history buffers are reserved for `2 × bufferSeconds` plus
///   one block at construction and trimmed in place once `2 × bufferSeconds` are held, and chain
///   snapshots are copied into preallocated storage. About 1.5–2 µs per channel for a 100-sample
///   block (Benchmarks: "Filter+picker 3 channels, 1 s at 100 sps"); a trim moves
///   `bufferSeconds` of samples once per `bufferSeconds`. A trigger decision works in scratch
///   buffers sized at construction (AIC window and AIC, glitch-scan medians), so one without
///   glitches allocates only its output; about 10 µs per channel on the `quakewarn bench`
///   machine (AIC ≈ 5 µs: two logarithms per window sample; noise median of the first
///   differences ≈ 1 µs). A decision with glitches also repairs, replays and re-picks.
public struct GlitchRejectingPicker: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Filter before the STA/LTA (default `bandpass:1:20`, order 4).
        public var filter: FilterSpec
        public var staSeconds: Double
        public var ltaSeconds: Double
        public var trigger: TriggerStateMachine.Configuration
        /// Re-picker settings; its `filter` should stay `.none` (it is given the filtered stream).
        public var repicker: AICRepicker.Configuration
        public var glitch: GlitchDetector.Configuration
        /// Glitches are searched from `onset − glitchGuardSeconds` (default 0.5 s).
        public var glitchGuardSeconds: Double
        /// Allowed start-time mismatch between consecutive blocks, in sample intervals (default 0.5).
        public var gapToleranceSamples: Double
        /// History kept for re-picking and replay, seconds (default 30 s).
        public var bufferSeconds: Double

        public init(filter: FilterSpec = .bandpass(lowHz: 1, highHz: 20), staSeconds: Double = 0.5,
                    ltaSeconds: Double = 10, trigger: TriggerStateMachine.Configuration = .init(),
                    repicker: AICRepicker.Configuration = .init(), glitch: GlitchDetector.Configuration = .init(),
                    glitchGuardSeconds: Double = 0.5, gapToleranceSamples: Double = 0.5, bufferSeconds: Double = 30)
        {
            self.filter = filter
            self.staSeconds = staSeconds
            self.ltaSeconds = ltaSeconds
            self.trigger = trigger
            self.repicker = repicker
            self.glitch = glitch
            self.glitchGuardSeconds = glitchGuardSeconds
            self.gapToleranceSamples = gapToleranceSamples
            self.bufferSeconds = bufferSeconds
        }
    }

    /// A configuration that cannot be used at this sampling rate.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        case filter(FilterDesignError)
        case stalta(STALTAParameterError)
        case trigger(TriggerStateMachine.ConfigurationError)
        case repicker(AICRepicker.ConfigurationError)
        case invalid(parameter: String, value: Double)

        public var description: String {
            switch self {
            case .filter(let e): return "filter: \(e)"
            case .stalta(let e): return "STA/LTA: \(e)"
            case .trigger(let e): return "trigger: \(e)"
            case .repicker(let e): return "re-picker: \(e)"
            case let .invalid(p, v): return "\(p) = \(v) is not valid"
            }
        }
    }

    /// An accepted P pick.
    public struct Pick: Sendable, Equatable {
        public var streamID: StreamID
        /// Onset time (AIC minimum).
        public var time: Timestamp
        /// Onset as an index into all samples this picker has received (counting from 0).
        public var sampleIndex: Int
        /// Time and index of the trigger (STA/LTA ON) that led to the pick.
        public var triggerTime: Timestamp
        public var triggerSampleIndex: Int
        public var snr: Double
        public var grade: AICRepicker.Grade
        /// Glitches repaired in the pick window (empty for a clean pick).
        public var repairedGlitches: [GlitchDetector.Kind]
    }

    /// Why a trigger did not become a pick.
    public enum RejectionReason: Sendable, Equatable {
        /// Glitches explained the trigger (no onset left after repair).
        case glitch([GlitchDetector.Kind])
        /// The AIC re-pick failed (e.g. SNR below minimum).
        case repick(RepickRejection)
        /// A gap or overlap reset the picker before the trigger could be checked.
        case discardedAtReset
    }

    public struct RejectedTrigger: Sendable, Equatable {
        public var streamID: StreamID
        public var triggerTime: Timestamp
        public var triggerSampleIndex: Int
        public var reason: RejectionReason
    }

    public enum ResetReason: Sendable, Equatable {
        /// Missing data between blocks (seconds).
        case gap(seconds: Double)
        /// The block starts before the previous one ended (seconds of overlap).
        case overlap(seconds: Double)
        /// The block's rate differs from the picker's (Hz); the block was ignored.
        case samplingRateMismatch(Double)
    }

    public enum Output: Sendable, Equatable {
        case pick(Pick)
        case rejected(RejectedTrigger)
        case reset(at: Timestamp, reason: ResetReason)
    }

    private struct Chain: Sendable {
        var filter: ButterworthFilter?
        var stalta: RecursiveSTALTA
        mutating func reset() {
            filter?.reset()
            stalta.reset()
        }
    }

    /// Chain states every `snapshotInterval` samples, stored flat in arrays that keep their
    /// capacity: taking a snapshot copies a few numbers (STA/LTA value, filter delay line) and
    /// allocates nothing in the steady state. (Storing `Chain` values would share the filter's
    /// state array with the live filter, so every following filter call would copy it on write.)
    private struct Snapshots: Sendable {
        /// Filter state values per snapshot (0 without a filter).
        let filterStateCount: Int
        /// Global sample index of each snapshot (increasing).
        private(set) var indices: [Int] = []
        private var staltas: [RecursiveSTALTA] = []
        private var filterStates: [Double] = []

        init(filterStateCount: Int, reservingCapacity n: Int, stalta: RecursiveSTALTA) {
            self.filterStateCount = filterStateCount
            // Written once (Array(emptyPrefaulted:filler:)): no page faults later.
            indices = [Int](emptyPrefaulted: n, filler: 0)
            staltas = [RecursiveSTALTA](emptyPrefaulted: n, filler: stalta)
            filterStates = [Double](emptyPrefaulted: n * filterStateCount, filler: 0)
        }

        var lastSampleIndex: Int? { indices.isEmpty ? nil : indices[indices.count - 1] }

        /// Position of the newest snapshot taken at or before global sample `g`.
        func newest(atOrBefore g: Int) -> Int? {
            var i = indices.count - 1
            while i >= 0, indices[i] > g { i -= 1 }
            return i >= 0 ? i : nil
        }

        mutating func append(index: Int, chain: Chain) {
            indices.append(index)
            staltas.append(chain.stalta)
            let n = filterStateCount
            guard n > 0 else { return }
            let start = filterStates.count
            for _ in 0..<n { filterStates.append(0) }  // (no generic append in unoptimised builds)
            filterStates.withUnsafeMutableBufferPointer { st in
                chain.filter?.copyState(into: UnsafeMutableBufferPointer(rebasing: st[start..<(start + n)]))
            }
        }

        /// Sets `chain` to snapshot `i`; returns its global sample index.
        func restore(_ i: Int, into chain: inout Chain) -> Int {
            chain.stalta = staltas[i]
            let n = filterStateCount
            if n > 0 {
                filterStates.withUnsafeBufferPointer { st in
                    chain.filter?.restoreState(from: UnsafeBufferPointer(rebasing: st[(i * n)..<((i + 1) * n)]))
                }
            }
            return indices[i]
        }

        /// Keeps snapshots `0...i`.
        mutating func removeAll(after i: Int) {
            indices.removeSubrange((i + 1)...)
            staltas.removeSubrange((i + 1)...)
            filterStates.removeSubrange(((i + 1) * filterStateCount)...)
        }

        /// Drops the `k` oldest snapshots (in place, capacity kept).
        mutating func removeFirst(_ k: Int) {
            indices.removeFirst(k)
            staltas.removeFirst(k)
            filterStates.removeFirst(k * filterStateCount)
        }

        var storageAddresses: [UInt] {
            [indices.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
             staltas.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
             filterStates.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }]
        }

        var capacities: [Int] { [indices.capacity, staltas.capacity, filterStates.capacity] }

        mutating func removeAll() {
            indices.removeAll(keepingCapacity: true)
            staltas.removeAll(keepingCapacity: true)
            filterStates.removeAll(keepingCapacity: true)
        }
    }

    private struct Pending: Sendable {
        var onSample: Int      // global
        var decisionSample: Int  // global
    }

    public let configuration: Configuration
    public let streamID: StreamID
    public let samplingRateHz: Double
    private let repicker: AICRepicker
    private var machine: TriggerStateMachine
    private var chain: Chain
    private let postSamples: Int
    private let guardSamples: Int
    private let keepSamples: Int
    private let snapshotInterval: Int

    // Segment state.
    private var expectedNextTime: Timestamp?
    private var segmentStart = 0
    private var segmentStartTime = Timestamp(nanosecondsSinceEpoch: 0)
    private var offset: Double?
    /// Level shifts of repaired steps, in the order they were removed (subtracted one by one from
    /// every later sample, exactly as from the buffered ones, so the result does not depend on
    /// when a sample arrived).
    private var stepShifts: [Double] = []
    // Buffers, global index `base` at element 0.
    private var base = 0
    private var raw: [Double] = []
    private var input: [Double] = []
    private var filtered: [Double] = []
    private var cf: [Double] = []
    private var chainNext = 0
    private var snapshots: Snapshots
    private var pending: [Pending] = []
    /// Working storage of a trigger decision (AIC window and AIC; glitch-scan medians), sized at
    /// construction for the largest window, so that a decision without glitches allocates nothing
    /// for its computations.
    private var repickScratch: [Double]
    private var glitchScratch: [Double]
    /// Total samples received.
    public private(set) var receivedSampleCount = 0

    public init(_ configuration: Configuration = Configuration(), streamID: StreamID, samplingRateHz fs: Double)
        throws(ConfigurationError)
    {
        let c = configuration
        for (p, v) in [("glitchGuardSeconds", c.glitchGuardSeconds), ("gapToleranceSamples", c.gapToleranceSamples),
                       ("bufferSeconds", c.bufferSeconds)] where !(v.isFinite && v >= 0)
        {
            throw .invalid(parameter: p, value: v)
        }
        let filter: ButterworthFilter?
        do throws(FilterDesignError) { filter = try c.filter.makeFilter(samplingRateHz: fs) } catch { throw .filter(error) }
        let sl: RecursiveSTALTA
        do throws(STALTAParameterError) {
            sl = try RecursiveSTALTA(staSeconds: c.staSeconds, ltaSeconds: c.ltaSeconds, samplingRateHz: fs)
        } catch { throw .stalta(error) }
        do throws(TriggerStateMachine.ConfigurationError) {
            machine = try TriggerStateMachine(c.trigger, samplingRateHz: fs, startTime: Timestamp(nanosecondsSinceEpoch: 0))
        } catch { throw .trigger(error) }
        do throws(AICRepicker.ConfigurationError) { repicker = try AICRepicker(c.repicker) } catch { throw .repicker(error) }
        let window = c.repicker.preTriggerSeconds + c.repicker.postTriggerSeconds + c.glitchGuardSeconds
        guard c.bufferSeconds >= window else { throw .invalid(parameter: "bufferSeconds", value: c.bufferSeconds) }
        self.configuration = c
        self.streamID = streamID
        self.samplingRateHz = fs
        self.chain = Chain(filter: filter, stalta: sl)
        self.postSamples = SampleBlock.sampleCount(seconds: c.repicker.postTriggerSeconds, samplingRateHz: fs)
        self.guardSamples = SampleBlock.sampleCount(seconds: c.glitchGuardSeconds, samplingRateHz: fs)
        self.keepSamples = max(16, SampleBlock.sampleCount(seconds: c.bufferSeconds, samplingRateHz: fs))
        self.snapshotInterval = max(1, SampleBlock.sampleCount(seconds: 0.1, samplingRateHz: fs))
        // Steady state holds at most 2·keepSamples + one block (see trim()); reserving that once
        // (for blocks up to 512 samples) means the buffers never reallocate afterwards.
        let capacity = 2 * keepSamples + 512
        self.snapshots = Snapshots(filterStateCount: filter?.stateCount ?? 0,
                                   reservingCapacity: capacity / snapshotInterval + 2, stalta: sl)
        // Decision windows: the glitch scan covers at most `keepSamples + 1` samples; the AIC
        // window at most pre + post + 1 samples plus the re-picker's filter lead (0 without a
        // re-picker filter), twice (window and AIC).
        let aicWindow = SampleBlock.sampleCount(seconds: c.repicker.preTriggerSeconds, samplingRateHz: fs)
            + SampleBlock.sampleCount(seconds: c.repicker.postTriggerSeconds, samplingRateHz: fs) + 1
            + (c.repicker.filter == .none ? 0 : SampleBlock.sampleCount(seconds: c.repicker.filterLeadSeconds,
                                                                         samplingRateHz: fs))
        self.repickScratch = [Double](repeating: 0, count: 2 * min(aicWindow, keepSamples + 1))
        self.glitchScratch = [Double](repeating: 0, count: keepSamples + 1)
        // Written once now, not page-faulted in during the first 2 × bufferSeconds of the stream.
        raw = [Double](emptyPrefaulted: capacity, filler: 0)
        input = [Double](emptyPrefaulted: capacity, filler: 0)
        filtered = [Double](emptyPrefaulted: capacity, filler: 0)
        cf = [Double](emptyPrefaulted: capacity, filler: 0)
    }

    private func time(ofGlobal g: Int) -> Timestamp {
        segmentStartTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: g - segmentStart,
                                                                           samplingRateHz: samplingRateHz))
    }

    /// Feeds the next block of the stream; returns picks, rejections and resets decided by it.
    public mutating func process(_ block: SampleBlock) -> [Output] {
        var out: [Output] = []
        guard block.samplingRateHz == samplingRateHz else {
            resetAll(startTime: block.startTime, into: &out)
            out.append(.reset(at: block.startTime, reason: .samplingRateMismatch(block.samplingRateHz)))
            expectedNextTime = nil
            return out
        }
        guard !block.samples.isEmpty else { return out }
        if let expected = expectedNextTime {
            let dt = block.startTime.nanoseconds(since: expected)
            let tolerance = configuration.gapToleranceSamples * 1e9 / samplingRateHz
            if Double(abs(dt)) > tolerance {
                resetAll(startTime: block.startTime, into: &out)
                let sec = Double(dt) / 1e9
                out.append(.reset(at: block.startTime, reason: sec > 0 ? .gap(seconds: sec) : .overlap(seconds: -sec)))
            }
        } else {
            resetAll(startTime: block.startTime, into: &out)
        }
        expectedNextTime = block.endTimeExclusive
        let first = receivedSampleCount
        if offset == nil { offset = block.samples[0] }
        let off = offset ?? 0
        raw.append(contentsOf: block.samples)
        // (No reserveCapacity here: reserving exact sizes defeats the amortised growth.)
        // Index loops over unsafe buffers: the same code in release, and no generic iterator
        // calls (which allocate in unoptimised builds; the allocation tests run those).
        block.samples.withUnsafeBufferPointer { samples in
            stepShifts.withUnsafeBufferPointer { shifts in
                for i in 0..<samples.count {
                    var y = samples[i] - off
                    for j in 0..<shifts.count { y -= shifts[j] }
                    input.append(y)
                }
            }
        }
        for _ in 0..<block.samples.count {
            filtered.append(0)
            cf.append(0)
        }
        receivedSampleCount += block.samples.count
        let end = receivedSampleCount
        runChain(to: end)
        // Feed the trigger machine runs of CF values, each ending at the next sample where a
        // decision may be due, so that every decision happens after exactly the same CF samples
        // (and affects exactly the same later ones) as when feeding one sample at a time:
        // - a pending trigger is decided right after its decision sample;
        // - a trigger that opens inside a run has `onSample ≥` the run's first sample `k`, so its
        //   decision sample is `≥ k + postSamples`: runs of at most `postSamples + 1` samples
        //   cannot contain it before their last sample;
        // - an open candidate can be declared with an earlier ON sample, possibly due at once:
        //   then the machine advances one sample at a time.
        var k = first
        var events: [TriggerStateMachine.Event] = []
        while k < end {
            var stop = min(end, k + (machine.hasOpenCandidate ? 1 : postSamples + 1))
            if let p = pending.first { stop = min(stop, max(p.decisionSample, k) + 1) }
            cf.withUnsafeBufferPointer { c in
                machine.process(UnsafeBufferPointer(rebasing: c[(k - base)..<(stop - base)])) { events.append($0) }
            }
            if !events.isEmpty {
                for e in events {
                    if case let .triggerOn(on, declared, _, _) = e {
                        let g = segmentStart + on
                        pending.append(Pending(onSample: g, decisionSample: max(segmentStart + declared, g + postSamples)))
                    }
                }
                events.removeAll(keepingCapacity: true)
            }
            let last = stop - 1
            while let p = pending.first, p.decisionSample <= last {
                pending.removeFirst()
                out.append(decide(p, at: last))
            }
            k = stop
        }
        trim()
        return out
    }

    /// Decides the triggers still waiting for data, with the data received so far (end of a
    /// replay). The picker can continue afterwards.
    public mutating func finish() -> [Output] {
        var out: [Output] = []
        let last = receivedSampleCount - 1
        while !pending.isEmpty {
            let p = pending.removeFirst()
            out.append(decide(p, at: max(last, p.onSample)))
        }
        return out
    }

    // MARK: - Internals

    private mutating func resetAll(startTime: Timestamp, into out: inout [Output]) {
        for p in pending {
            out.append(.rejected(RejectedTrigger(streamID: streamID, triggerTime: time(ofGlobal: p.onSample),
                                                 triggerSampleIndex: p.onSample, reason: .discardedAtReset)))
        }
        pending.removeAll()
        chain.reset()
        machine.reset(startTime: startTime)
        segmentStart = receivedSampleCount
        segmentStartTime = startTime
        offset = nil
        stepShifts.removeAll()
        base = receivedSampleCount
        raw.removeAll(keepingCapacity: true)
        input.removeAll(keepingCapacity: true)
        filtered.removeAll(keepingCapacity: true)
        cf.removeAll(keepingCapacity: true)
        chainNext = receivedSampleCount
        snapshots.removeAll()  // keeps capacity
    }

    /// Runs filter and STA/LTA from `chainNext` to `end`, snapshotting the chain state every
    /// `snapshotInterval` samples of the segment.
    private mutating func runChain(to end: Int) {
        while chainNext < end {
            let rel = chainNext - segmentStart
            if rel % snapshotInterval == 0, snapshots.lastSampleIndex.map({ $0 < chainNext }) ?? true {
                snapshots.append(index: chainNext, chain: chain)
            }
            let stop = min(end, chainNext + (snapshotInterval - rel % snapshotInterval))
            let lo = chainNext - base, hi = stop - base
            input.withUnsafeBufferPointer { inp in
                filtered.withUnsafeMutableBufferPointer { f in
                    let src = UnsafeBufferPointer(rebasing: inp[lo..<hi])
                    let dst = UnsafeMutableBufferPointer(rebasing: f[lo..<hi])
                    if chain.filter != nil {
                        chain.filter?.process(src, into: dst)
                    } else {
                        _ = dst.initialize(fromContentsOf: src)
                    }
                }
            }
            filtered.withUnsafeBufferPointer { f in
                cf.withUnsafeMutableBufferPointer { c in
                    chain.stalta.process(UnsafeBufferPointer(rebasing: f[lo..<hi]),
                                         into: UnsafeMutableBufferPointer(rebasing: c[lo..<hi]))
                }
            }
            chainNext = stop
        }
    }

    /// Identity (base address) and capacity of every internal buffer: sample history (`raw`,
    /// `input`, `filtered`, `cf`), the chain snapshots and the filter's delay line. Two equal
    /// fingerprints taken around a `process` call mean no buffer was reallocated or copied on
    /// write in between (a reallocation needs the new storage while the old one is still alive,
    /// so its address differs). For the allocation tests.
    @_spi(Testing) public struct BufferFingerprint: Sendable, Equatable, CustomStringConvertible {
        public var addresses: [UInt]
        public var capacities: [Int]
        /// Largest element count over the sample-history buffers.
        public var historyCount: Int
        public var description: String { "addresses \(addresses), capacities \(capacities), history \(historyCount)" }
    }

    @_spi(Testing) public var bufferFingerprint: BufferFingerprint {
        func address(_ a: [Double]) -> UInt { a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        var addresses = [address(raw), address(input), address(filtered), address(cf)]
        var capacities = [raw.capacity, input.capacity, filtered.capacity, cf.capacity]
        addresses += snapshots.storageAddresses
        capacities += snapshots.capacities
        if let f = chain.filter { addresses.append(address(f.stateValues)) }
        return BufferFingerprint(addresses: addresses, capacities: capacities,
                                 historyCount: max(raw.count, input.count, filtered.count, cf.count))
    }

    /// Identity and capacity of the decision scratch buffers (for the allocation tests: equal
    /// before and after decisions means they were neither reallocated nor grown).
    @_spi(Testing) public var decisionScratchFingerprint: BufferFingerprint {
        func address(_ a: [Double]) -> UInt { a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        return BufferFingerprint(addresses: [address(repickScratch), address(glitchScratch)],
                                 capacities: [repickScratch.capacity, glitchScratch.capacity],
                                 historyCount: max(repickScratch.count, glitchScratch.count))
    }

    private mutating func repick(onSample: Int, windowStart ws: Int, through k: Int) -> Result<RepickResult, RepickRejection> {
        var scratch: [Double] = []
        swap(&scratch, &repickScratch)  // moved out, so it stays uniquely referenced
        defer { swap(&scratch, &repickScratch) }
        return filtered.withUnsafeBufferPointer { f in
            repicker.repick(samples: UnsafeBufferPointer(rebasing: f[(ws - base)...(k - base)]),
                            startTime: time(ofGlobal: ws), samplingRateHz: samplingRateHz,
                            triggerSample: onSample - ws, scratch: &scratch)
        }
    }

    private mutating func decide(_ p: Pending, at k: Int) -> Output {
        let pre = SampleBlock.sampleCount(seconds: configuration.repicker.preTriggerSeconds, samplingRateHz: samplingRateHz)
        let ws = max(p.onSample - pre, segmentStart, k - keepSamples, base)
        let first = repick(onSample: p.onSample, windowStart: ws, through: k)
        let noiseEnd = max(ws, p.onSample - guardSamples)
        var scratch: [Double] = []
        swap(&scratch, &glitchScratch)
        if scratch.count < k - ws + 1 { scratch.append(contentsOf: repeatElement(0, count: k - ws + 1 - scratch.count)) }
        let findings: [GlitchDetector.Finding] = input.withUnsafeBufferPointer { inp in
            raw.withUnsafeBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { s in
                    GlitchDetector.findGlitches(in: UnsafeBufferPointer(rebasing: inp[(ws - base)...(k - base)]),
                                                raw: UnsafeBufferPointer(rebasing: r[(ws - base)...(k - base)]),
                                                noise: 0..<(noiseEnd - ws), search: (noiseEnd - ws)..<(k - ws + 1),
                                                samplingRateHz: samplingRateHz, configuration: configuration.glitch,
                                                scratch: s)
                }
            }
        }
        swap(&scratch, &glitchScratch)
        let machineOn = p.onSample - segmentStart
        if findings.isEmpty {
            switch first {
            case .success(let r): return .pick(makePick(r, ws: ws, on: p.onSample, repaired: []))
            case .failure(let why):
                machine.retractTrigger(onSample: machineOn, rearm: false)
                return .rejected(RejectedTrigger(streamID: streamID, triggerTime: time(ofGlobal: p.onSample),
                                                 triggerSampleIndex: p.onSample, reason: .repick(why)))
            }
        }
        // Repair from the window start to the end of the data received so far, then replay.
        let end = receivedSampleCount
        input.withUnsafeMutableBufferPointer { inp in
            _ = GlitchDetector.repair(UnsafeMutableBufferPointer(rebasing: inp[(ws - base)..<(end - base)]),
                                      findings: findings, samplingRateHz: samplingRateHz,
                                      configuration: configuration.glitch)
        }
        stepShifts += GlitchDetector.stepShiftsInRepairOrder(findings)
        let modified = ws + (findings.map(\.range.lowerBound).min() ?? 0)
        if let idx = snapshots.newest(atOrBefore: modified) {
            snapshots.removeAll(after: idx)
            chainNext = snapshots.restore(idx, into: &chain)
            runChain(to: end)
        }
        let kinds = Array(Set(findings.map(\.kind))).sorted { $0.rawValue < $1.rawValue }
        switch repick(onSample: p.onSample, windowStart: ws, through: k) {
        case .success(let r):
            return .pick(makePick(r, ws: ws, on: p.onSample, repaired: kinds))
        case .failure:
            machine.retractTrigger(onSample: machineOn, rearm: true)
            return .rejected(RejectedTrigger(streamID: streamID, triggerTime: time(ofGlobal: p.onSample),
                                             triggerSampleIndex: p.onSample, reason: .glitch(kinds)))
        }
    }

    private func makePick(_ r: RepickResult, ws: Int, on: Int, repaired: [GlitchDetector.Kind]) -> Pick {
        let g = ws + r.sampleIndex
        return Pick(streamID: streamID, time: time(ofGlobal: g), sampleIndex: g, triggerTime: time(ofGlobal: on),
                    triggerSampleIndex: on, snr: r.snr, grade: r.grade, repairedGlitches: repaired)
    }

    /// Drops history older than `keepSamples` (amortised: only when twice that is held), keeping
    /// the snapshot the oldest retained sample may need.
    private mutating func trim() {
        guard raw.count > 2 * keepSamples else { return }
        let desired = receivedSampleCount - keepSamples
        guard let snapIdx = snapshots.newest(atOrBefore: desired) else { return }
        let newBase = snapshots.indices[snapIdx]
        guard newBase > base else { return }
        let drop = newBase - base
        raw.removeFirst(drop)
        input.removeFirst(drop)
        filtered.removeFirst(drop)
        cf.removeFirst(drop)
        base = newBase
        snapshots.removeFirst(snapIdx)
    }
}
