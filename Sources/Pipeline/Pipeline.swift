// Pipeline: the station-to-warning chain shared by replay and the live ingest daemon, driven by data time.
//
//   SampleBlock ──► per channel GlitchRejectingPicker ──► picks / rejections
//               ──► per station RealTimeStationProcessor (Z) ──► station parameters (snapshots)
//               ──► per station OnsiteStationAnalyzer (Z/N/E) ──► back-azimuth, B–Δ distance
//   ──► reorder by data time (hold-back queue) ──► EventBuilder ──► EventUpdate + Decision
//   ──► WarningIssuer (WarningPredictor) ──► WarningMessage (+ CAP 1.2 XML)

public import Alerting
public import EventBuilder
import Magnitude
public import Picking
public import SeismicCore

/// One output of the pipeline, in data-time order.
public enum PipelineRecord: Sendable {
    /// A P pick on any channel (only vertical-channel picks go to the event builder), with the
    /// data time at which the picker had emitted it (end of the slice; `knownAt − time` is the
    /// picker's latency in data time, up to one slice too long).
    case pick(GlitchRejectingPicker.Pick, knownAt: Timestamp)
    /// A trigger the picker rejected, with the data time of the rejection.
    case rejection(GlitchRejectingPicker.RejectedTrigger, knownAt: Timestamp)
    /// An event message from the event builder.
    case event(EventUpdate)
    /// An entry of the event builder's decision log.
    case decision(Decision)
    /// A warning (Alert/Update/Cancel) with its CAP 1.2 rendering.
    case warning(WarningMessage, capXML: String)
    /// A human-readable note about the input (ignored stream, gap, failed analysis…).
    case notice(time: Timestamp?, message: String)
    /// An S onset on a station's horizontals after its P pick (``EventBuilder/SPhaseDetector``),
    /// with the data time at which it was found.
    case sPick(StationSPhase, knownAt: Timestamp)
}

/// The whole chain from sample blocks to warnings for the stations of a ``QuakeWarnConfiguration``.
///
/// **Data time only.** Every timestamp in the outputs comes from the samples (a warning's
/// `createdTime` is the data time of the event update that caused it); nothing reads the wall
/// clock, so the same input gives the same records.
///
/// **Slices.** The input of every stream is re-cut into slices at epoch-aligned multiples of
/// ``Configuration/sliceSeconds`` (0.25 s), and the slices of all streams are processed in
/// (start time, stream id) order once every expected stream has delivered data past them. So every
/// component sees the same block sequence whatever the chunking of the input (1 s blocks, 512-byte
/// records or whole files): the outputs are identical for any chunking.
///
/// **Availability time.** Each output of the per-station stage is stamped with the data time at
/// which it became known: a pick or rejection at the end of the slice in which the picker emitted
/// it (the picker needs data after the onset), a station-parameter snapshot at the end of its
/// window (or when its pick became known, if later), onsite back-azimuth/distance at the end of the
/// slice that completed them. The event builder receives them in (availability time, kind, station)
/// order as soon as every expected stream has been processed beyond that time; its clock is
/// advanced in between on a fixed grid (``Configuration/clockTickSeconds``, aligned to the epoch)
/// so timeouts fire at the same data times for any chunking. The latency this adds is at most one
/// slice plus the skew between the expected streams; ``Configuration/holdBackSeconds`` can add
/// more (default 0).
///
/// Streams that are not configured (station, location or channel not in the configuration) are
/// ignored with one ``PipelineRecord/notice(time:message:)`` per stream.
///
/// **Stalled streams.** A stream in ``Configuration/expectedStreams`` that stops delivering holds
/// everything back until ``finish()`` unless ``Configuration/stallTimeoutSeconds`` is set (the live
/// daemon sets it; replay does not): then a stream whose received data end more than that many
/// seconds (data time) before the most advanced expected stream's stops gating the others, with a
/// ``PipelineRecord/notice(time:message:)``; a stream that never delivered counts as ending at the
/// first data time seen. It gates again (another notice) once its received data are within half
/// the timeout of the most advanced stream (hysteresis, so a stream near the limit does not flap). Its late data are processed when they arrive, so picks from them may reach the
/// event builder after later-timed inputs of other stations. The decision depends on data times
/// and arrival order only, never on the wall clock.
public struct ReplayPipeline: Sendable {
    public struct Configuration: Sendable {
        public var quakeWarn: QuakeWarnConfiguration
        /// Status of every warning (the configuration's `alerting.status`, or `.exercise` for drills).
        public var status: WarningStatus
        public var picker: GlitchRejectingPicker.Configuration
        public var onsite: OnsiteStationAnalyzer.Configuration
        /// Extra data-time delay (s) before an input is released to the event builder (default 0; see type docs).
        public var holdBackSeconds: Double
        /// Grid (s) on which the event builder's clock is advanced between inputs.
        public var clockTickSeconds: Double
        /// Length (s) of the epoch-aligned slices the input is re-cut into (see ``ReplayPipeline/process(_:)``).
        public var sliceSeconds: Double
        /// Streams whose data time gates the release of held records (nil: every configured
        /// channel). A stream listed here that never delivers data holds everything back until
        /// ``ReplayPipeline/finish()``; a replay passes the configured streams present in its files.
        public var expectedStreams: Set<StreamID>?
        /// Data-time lag (s) behind the most advanced expected stream after which a stream stops
        /// holding the others back (nil: never; see ``ReplayPipeline``).
        public var stallTimeoutSeconds: Double?

        public init(quakeWarn: QuakeWarnConfiguration, status: WarningStatus? = nil,
                    picker: GlitchRejectingPicker.Configuration = .init(),
                    onsite: OnsiteStationAnalyzer.Configuration = .init(),
                    holdBackSeconds: Double = 0, clockTickSeconds: Double = 0.1, sliceSeconds: Double = 0.25,
                    expectedStreams: Set<StreamID>? = nil, stallTimeoutSeconds: Double? = nil) {
            self.expectedStreams = expectedStreams
            self.stallTimeoutSeconds = stallTimeoutSeconds.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            self.sliceSeconds = sliceSeconds.isFinite ? min(max(sliceSeconds, 0.01), 60) : 0.25
            self.quakeWarn = quakeWarn
            self.status = status ?? quakeWarn.alerting.status
            self.picker = picker
            self.onsite = onsite
            self.holdBackSeconds = holdBackSeconds.isFinite ? min(max(holdBackSeconds, 0), 3600) : 0
            self.clockTickSeconds = clockTickSeconds.isFinite ? min(max(clockTickSeconds, 0.01), 10) : 0.1
        }
    }

    // MARK: - State
    //
    // Everything on the per-record path is indexed by small integers fixed at init: the streams
    // (every configured channel) and the stations in arrays, the hold-back queue's sort keys as
    // ranks of the key strings. A block costs one dictionary lookup of its stream id; no string is
    // built, hashed or compared per slice, and no stream list is sorted per record.

    /// Per-station state (index into ``stations``, fixed at init).
    private struct Station: Sendable {
        var config: StationConfiguration
        var code: String  // NET.STA
        /// Rank of `code` among the hold-back queue's keys (see ``Pending``).
        var keyRank: Int
        var processorFailed = false
        var backAzimuth: [Timestamp: (estimate: BackAzimuthEstimate, availableAt: Timestamp)] = [:]
        var distance: [Timestamp: (estimate: EpicentralDistanceEstimate, availableAt: Timestamp)] = [:]
    }

    /// Per configured stream (index into ``streams``, fixed at init).
    private struct Stream: Sendable {
        let id: StreamID
        /// `id.description` (built once).
        let key: String
        /// Rank of `key` among the hold-back queue's keys: comparing ranks is comparing `key`s,
        /// i.e. ``StreamID``'s `<` (equal ranks: equal descriptions).
        let keyRank: Int
        let station: Int
        let isVertical: Bool
        /// In the configuration's expected streams.
        let expected: Bool
        /// Currently gates processing and release (expected, and not stalled).
        var gating: Bool
        var input = InputStream()
        var picker: GlitchRejectingPicker?
        /// End of processed data.
        var watermark: Timestamp?
        /// End of received data.
        var received: Timestamp?

        init(id: StreamID, keyRank: Int, station: Int, expected: Bool) {
            self.id = id
            self.key = id.description
            self.keyRank = keyRank
            self.station = station
            self.isVertical = id.component == "Z" || id.component == "3"
            self.expected = expected
            self.gating = expected
        }
    }

    /// An item waiting in the hold-back queue.
    struct Pending: Sendable {
        enum Item: Sendable {
            case pick(GlitchRejectingPicker.Pick, feedsBuilder: Bool)
            case rejection(GlitchRejectingPicker.RejectedTrigger, feedsBuilder: Bool)
            case snapshot(station: Int, pickTime: Timestamp, StationParameters)
            case sPhase(StationSPhase)
            case notice(String)
        }
        var time: Timestamp
        var rank: Int
        /// Rank of the key string (a stream's `NET.STA.LOC.CHA` or a station's `NET.STA`) among all
        /// key strings of the configuration, so that comparing ranks is comparing the strings.
        var keyRank: Int
        var sub: Int
        var item: Item

        /// Order of release: (time, rank, key, sub).
        static func < (a: Pending, b: Pending) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.rank != b.rank { return a.rank < b.rank }
            if a.keyRank != b.keyRank { return a.keyRank < b.keyRank }
            return a.sub < b.sub
        }
    }

    /// A slice ready to be processed: its stream, its position in the stream's queue, the samples.
    private struct ReadySlice: Sendable {
        var stream: Int
        var index: Int
        var slice: SampleBlock
    }

    public let configuration: Configuration
    private var stations: [Station] = []
    /// Per station (same index as ``stations``), kept apart from ``Station`` so that they are
    /// mutated in place through the array (no copy of their sample buffers).
    private var processors: [RealTimeStationProcessor?] = []
    private var onsites: [OnsiteStationAnalyzer?] = []
    private var streams: [Stream] = []
    private let streamIndex: [StreamID: Int]
    /// Stream indices in ``StreamID`` order (for notices and the end of input).
    private let streamsInOrder: [Int]
    private let sliceNanoseconds: Int64
    private let clockTickNanoseconds: Int64
    private let holdBackNanoseconds: Int64
    private var ignoredStreams: Set<StreamID> = []
    var pending: [Pending] = []  // (internal: PipelineWarmUp)
    /// Reused buffers (capacity kept across records).
    private var readyPending: [Pending] = []
    private var readySlices: [ReadySlice] = []
    var records: [PipelineRecord] = []
    private var builder: EventBuilder
    private var issuer: WarningIssuer
    let renderer: CAPRenderer
    private var clockTick: Int64?
    private var dataEnd: Timestamp?
    /// End of the slice being processed: the data time at which its outputs become known.
    private var currentSliceEnd = Timestamp(nanosecondsSinceEpoch: 0)
    /// Start of the first block received (the implicit watermark of a stream that never delivered).
    private var firstDataTime: Timestamp?
    /// While ``process(_:issued:emit:)`` runs: the warnings whose CAP XML is still to be rendered,
    /// with the earlier messages of their event at their issue (nil: render at once).
    var deferredCAP: [(message: WarningMessage, earlier: [WarningMessage])]?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        self.sliceNanoseconds = Int64((configuration.sliceSeconds * 1e9).rounded())
        self.clockTickNanoseconds = Int64((configuration.clockTickSeconds * 1e9).rounded())
        self.holdBackNanoseconds = Int64((configuration.holdBackSeconds * 1e9).rounded())
        let q = configuration.quakeWarn
        // Stations by code (a later entry with the same code replaces an earlier one), and the
        // configured streams with their station.
        var stationIndex: [String: Int] = [:]
        var stationList: [(config: StationConfiguration, code: String)] = []
        var channels: [StreamID: Int] = [:]
        var channelOrder: [StreamID] = []
        for s in q.stations {
            let code = "\(s.network).\(s.station)"
            let k: Int
            if let i = stationIndex[code] {
                k = i
                stationList[i] = (s, code)
            } else {
                k = stationList.count
                stationIndex[code] = k
                stationList.append((s, code))
            }
            for ch in s.channels {
                let id = StreamID(network: s.network, station: s.station, location: s.location, channel: ch)
                if channels.updateValue(k, forKey: id) == nil { channelOrder.append(id) }
            }
        }
        // Every key the hold-back queue can hold, ranked by String order once.
        let keys = Array(Set(stationList.map(\.code) + channelOrder.map(\.description))).sorted()
        var keyRank: [String: Int] = [:]
        for (r, key) in keys.enumerated() { keyRank[key] = r }
        let expected = configuration.expectedStreams.map { $0.filter { channels[$0] != nil } } ?? Set(channels.keys)
        self.stations = stationList.map { Station(config: $0.config, code: $0.code, keyRank: keyRank[$0.code] ?? 0) }
        self.processors = Array(repeating: nil, count: stationList.count)
        self.onsites = Array(repeating: nil, count: stationList.count)
        var streamIndex: [StreamID: Int] = [:]
        for id in channelOrder {
            streamIndex[id] = streams.count
            streams.append(Stream(id: id, keyRank: keyRank[id.description] ?? 0, station: channels[id] ?? 0,
                                  expected: expected.contains(id)))
        }
        self.streamIndex = streamIndex
        let streamList = streams
        self.streamsInOrder = streamList.indices.sorted { a, b in
            streamList[a].keyRank != streamList[b].keyRank ? streamList[a].keyRank < streamList[b].keyRank : a < b
        }
        var builderConfiguration = EventBuilder.Configuration(stations: q.stations.map(\.metadata))
        // The S−P distance uses the configuration's velocities (the warning's S countdown uses the same Vs).
        builderConfiguration.sVelocityKilometersPerSecond = q.alerting.sWaveVelocityKilometersPerSecond
        builder = EventBuilder(builderConfiguration)
        let predictor = WarningPredictor(configuration: q)
        issuer = WarningIssuer(predictor: predictor, status: configuration.status)
        renderer = CAPRenderer(cap: q.cap, predictor: predictor)
    }

    // MARK: - Input

    /// Processes one block of any configured stream (blocks of different streams in roughly
    /// increasing start time; any chunking). Returns the records released so far.
    ///
    /// Blocks are not processed as given: each stream's data are re-cut into slices at
    /// epoch-aligned multiples of ``Configuration/sliceSeconds`` and the slices of all streams are
    /// processed in (start time, stream id) order once every expected stream has delivered data
    /// past them. Every component therefore sees the same block sequence for any input chunking.
    public mutating func process(_ block: SampleBlock) -> [PipelineRecord] {
        var out: [PipelineRecord] = []
        process(block) { out.append($0) }
        return out
    }

    /// ``process(_:)`` for the live daemon's critical path: `issued` gets each warning the moment
    /// the warning issuer creates it, and `emit` gets every record (warnings included, in order)
    /// once the block is done. The records and their order are exactly those of ``process(_:)``
    /// (which is this function collecting into an array).
    ///
    /// What is moved off the path of a warning:
    /// - the block's later slices: records are released after every 0.25 s slice, so a warning is
    ///   issued right after the slice that produced it, not after the whole block (a 512-byte
    ///   record carries 2–4 s of one channel). Releasing after every slice gives the same records
    ///   as releasing once per block: every record a later slice enqueues is stamped at or after
    ///   that slice's start, which is at or after the release threshold (the minimum processed
    ///   watermark) at the time, and the event builder's clock is advanced on the same fixed grid
    ///   either way;
    /// - CAP rendering: the CAP 1.2 XML of the block's warnings is rendered after its last slice
    ///   (from the message and the earlier messages of its event as they were at its issue, so the
    ///   XML is the same), not between one warning and the next.
    public mutating func process(_ block: SampleBlock, issued: (WarningMessage) -> Void = { _ in },
                                 emit: (PipelineRecord) -> Void) {
        processCore(block, issued: issued) { r, cap in
            if let cap, case .warning(let m, _) = r {
                emit(.warning(m, capXML: cap.render()))
            } else {
                emit(r)
            }
        }
    }

    private mutating func processCore(_ block: SampleBlock, issued: (WarningMessage) -> Void,
                                      emit: (PipelineRecord, PendingCAP?) -> Void) {
        guard let s = streamIndex[block.streamID] else {
            if ignoredStreams.insert(block.streamID).inserted {
                emit(.notice(time: block.startTime, message: "\(block.streamID): not in the configuration; stream ignored"), nil)
            }
            return
        }
        guard !block.samples.isEmpty, block.samplingRateHz.isFinite, block.samplingRateHz > 0 else { return }
        streams[s].input.append(block, sliceNanoseconds: sliceNanoseconds)  // in place
        let end = block.endTimeExclusive
        streams[s].received = max(streams[s].received ?? end, end)
        if firstDataTime == nil { firstDataTime = block.startTime }
        records.removeAll(keepingCapacity: true)
        if let timeout = configuration.stallTimeoutSeconds { updateGate(timeout: timeout, now: end) }
        deferredCAP = []
        if let t = minimumReceivedWatermark() {
            processSlices(endingBy: t, releasing: true, issued: issued)
        }
        release(upTo: releaseThreshold(), issued: issued)
        let jobs = deferredCAP ?? []
        deferredCAP = nil
        var out: [PipelineRecord] = []
        swap(&out, &records)  // the emit closure cannot reach the pipeline; the buffer comes back below
        var next = 0
        for r in out {
            if case .warning(let m, _) = r, next < jobs.count {
                emit(.warning(m, capXML: ""), PendingCAP(message: jobs[next].message, earlier: jobs[next].earlier,
                                                         renderer: renderer))
                next += 1
            } else {
                emit(r, nil)
            }
        }
        out.removeAll(keepingCapacity: true)
        swap(&out, &records)
    }

    /// ``process(_:issued:emit:)`` that leaves the CAP rendering to the caller: a warning is
    /// emitted as `.warning(message, capXML: "")` together with its ``PendingCAP``, whose
    /// ``PendingCAP/render()`` gives the XML ``process(_:)`` would have put there (e.g. on another
    /// thread, after the next record). Every other record comes with nil.
    public mutating func process(_ block: SampleBlock, issued: (WarningMessage) -> Void = { _ in },
                                 emitDeferringCAP emit: (PipelineRecord, PendingCAP?) -> Void) {
        processCore(block, issued: issued, emit: emit)
    }

    /// The expected streams that currently gate processing (see "Stalled streams" above).
    public var gatingStreams: Set<StreamID> { Set(streams.lazy.filter(\.gating).map(\.id)) }

    /// Drops lagging streams from the gate and re-admits those that caught up (notices to ``records``).
    private mutating func updateGate(timeout: Double, now: Timestamp) {
        guard let first = firstDataTime else { return }
        var lead: Timestamp?
        for s in streams.indices where streams[s].expected {
            if let w = streams[s].received { lead = lead.map { max($0, w) } ?? w }
        }
        guard let lead else { return }
        let limit = Int64((timeout * 1e9).rounded())
        for s in streamsInOrder where streams[s].expected && streams[s].gating {
            let w = streams[s].received ?? first
            if lead.nanoseconds(since: w) > limit {
                streams[s].gating = false
                records.append(.notice(time: now, message: "\(streams[s].id): stalled (data end \(w.iso8601), \(timeout) s behind "
                                       + "\(lead.iso8601)); it no longer holds the other streams back"))
            }
        }
        // Hysteresis: back in the gate once within half the timeout of the lead.
        for s in streamsInOrder where streams[s].expected && !streams[s].gating {
            if let w = streams[s].received, lead.nanoseconds(since: w) <= limit / 2 {
                streams[s].gating = true
                records.append(.notice(time: now, message: "\(streams[s].id): caught up (data end \(w.iso8601)); it gates processing again"))
            }
        }
    }

    /// Processes the queued slices that end at or before `time`, in (start, stream) order.
    ///
    /// With `releasing`, the records each slice releases are added to ``records`` after it (see
    /// ``process(_:emit:)``); without, they stay pending for the caller's ``release(upTo:issued:)``.
    private mutating func processSlices(endingBy time: Timestamp?, releasing: Bool = false,
                                        issued: (WarningMessage) -> Void = { _ in }) {
        var ready: [ReadySlice] = []
        swap(&ready, &readySlices)
        ready.removeAll(keepingCapacity: true)
        for s in streams.indices where !streams[s].input.slices.isEmpty {
            streams[s].input.take(endingBy: time) { i, slice in ready.append(ReadySlice(stream: s, index: i, slice: slice)) }
        }
        // Total order (an overlap can give two slices of one stream the same start: keep arrival
        // order). Streams are compared as StreamID's `<` does, by their descriptions' ranks; two
        // different streams with equal descriptions are equivalent (the sort is stable).
        if ready.count > 1 {
            let list = streams
            ready.sort { a, b in
                if a.slice.startTime != b.slice.startTime { return a.slice.startTime < b.slice.startTime }
                if a.stream != b.stream {
                    return list[a.stream].keyRank < list[b.stream].keyRank
                }
                return a.index < b.index
            }
        }
        for r in ready {
            processSlice(r.slice, stream: r.stream)
            if releasing { release(upTo: releaseThreshold(), issued: issued) }
        }
        ready.removeAll(keepingCapacity: true)
        swap(&ready, &readySlices)
    }

    private mutating func processSlice(_ block: SampleBlock, stream s: Int) {
        let st = streams[s].station
        let end = block.endTimeExclusive
        if dataEnd.map({ end > $0 }) ?? true { dataEnd = end }
        streams[s].watermark = max(streams[s].watermark ?? end, end)
        currentSliceEnd = end
        let isVertical = streams[s].isVertical
        let fs = block.samplingRateHz

        // Onsite analysis (all three components).
        if onsites[st] == nil {
            var onsite = configuration.onsite
            onsite.verticalCountsPerMetersPerSecondSquared = stations[st].config.sensitivityCountsPerMetersPerSecondSquared
            onsites[st] = OnsiteStationAnalyzer(onsite, samplingRateHz: fs)
        }
        if let outputs = onsites[st]?.process(block) {  // in place (optional chaining), no copy
            collect(outputs, station: st)
        }

        // Station parameters on the vertical.
        if isVertical {
            if processors[st] == nil, !stations[st].processorFailed {
                do {
                    processors[st] = try RealTimeStationProcessor(configuration: StationParameterConfiguration(
                        samplingRateHz: fs,
                        countsPerMeterPerSecondSquared: stations[st].config.sensitivityCountsPerMetersPerSecondSquared,
                        pWaveSpeedKilometersPerSecond: configuration.quakeWarn.alerting.pWaveVelocityKilometersPerSecond,
                        sWaveSpeedKilometersPerSecond: configuration.quakeWarn.alerting.sWaveVelocityKilometersPerSecond))
                } catch {
                    stations[st].processorFailed = true
                    enqueue(Pending(time: currentSliceEnd, rank: 0, keyRank: streams[s].keyRank, sub: 4,
                                    item: .notice("\(streams[s].key): no station parameters: \(error)")))
                }
            }
            if processors[st] != nil {
                var snapshots: [StationParameters] = []
                do {
                    try processors[st]?.process(block) { snapshots.append($0) }
                } catch {
                    enqueue(Pending(time: currentSliceEnd, rank: 0, keyRank: streams[s].keyRank, sub: 0,
                                    item: .notice("\(streams[s].key): station parameters restarted: \(error)")))
                    processors[st]?.reset()
                    try? processors[st]?.process(block) { snapshots.append($0) }
                }
                for p in snapshots { enqueueSnapshot(p, station: st, samplingRateHz: fs, availableAt: nil) }
            }
        }

        // Picker.
        if streams[s].picker == nil {
            do {
                streams[s].picker = try GlitchRejectingPicker(configuration.picker, streamID: streams[s].id, samplingRateHz: fs)
            } catch {
                enqueue(Pending(time: currentSliceEnd, rank: 0, keyRank: streams[s].keyRank, sub: 5,
                                item: .notice("\(streams[s].key): picker not started: \(error)")))
            }
        }
        if let outputs = streams[s].picker?.process(block), !outputs.isEmpty {  // in place through the array
            handlePicker(outputs, stream: s)
        }
    }

    /// Ends the input: flushes the pickers and releases every held record.
    public mutating func finish() -> [PipelineRecord] {
        for s in streams.indices {
            streams[s].input.close()
        }
        records.removeAll(keepingCapacity: true)
        processSlices(endingBy: nil)
        for s in streamsInOrder where streams[s].picker != nil {
            currentSliceEnd = streams[s].watermark ?? currentSliceEnd
            guard let outputs = streams[s].picker?.finish() else { continue }
            handlePicker(outputs, stream: s)
        }
        let last = pending.map(\.time).max().map { t in dataEnd.map { max($0, t) } ?? t } ?? dataEnd
        release(upTo: last?.adding(nanoseconds: 1))
        let out = records
        records.removeAll(keepingCapacity: true)
        return out
    }

    // MARK: - Internals

    private mutating func collect(_ outputs: [OnsiteStationAnalyzer.Output], station st: Int) {
        for o in outputs {
            switch o {
            case .backAzimuth(let t, let estimate): stations[st].backAzimuth[t] = (estimate, currentSliceEnd)
            case .distance(let t, _, let estimate): stations[st].distance[t] = (estimate, currentSliceEnd)
            case let .sArrival(t, sTime, ratio, hv, availableAt):
                let s = StationSPhase(station: stations[st].code, pickTime: t, sTime: sTime, energyRatio: ratio,
                                      horizontalToVerticalChange: hv, time: max(availableAt, currentSliceEnd))
                enqueue(Pending(time: s.time, rank: 4, keyRank: stations[st].keyRank, sub: 0, item: .sPhase(s)))
            case .failed(let t, let what, let reason):
                let code = stations[st].code
                enqueue(Pending(time: currentSliceEnd, rank: 0, keyRank: stations[st].keyRank, sub: 1,
                                item: .notice("\(code): onsite \(what) analysis of the pick at \(t.iso8601) failed: \(reason)")))
            }
        }
    }

    private mutating func handlePicker(_ outputs: [GlitchRejectingPicker.Output], stream s: Int) {
        let st = streams[s].station
        let isVertical = streams[s].isVertical
        let keyRank = streams[s].keyRank
        for o in outputs {
            switch o {
            case .pick(let p):
                enqueue(Pending(time: max(p.time, currentSliceEnd), rank: 2, keyRank: keyRank, sub: 0,
                                item: .pick(p, feedsBuilder: isVertical)))
                guard isVertical else { continue }
                if let fs = processors[st]?.configuration.samplingRateHz {
                    var snapshots: [StationParameters] = []
                    do {
                        try processors[st]?.pick(at: p.time) { snapshots.append($0) }
                    } catch {
                        enqueue(Pending(time: currentSliceEnd, rank: 0, keyRank: keyRank, sub: 2,
                                        item: .notice("\(streams[s].key): no station parameters for the pick at \(p.time.iso8601): \(error)")))
                    }
                    for snapshot in snapshots {
                        enqueueSnapshot(snapshot, station: st, samplingRateHz: fs, availableAt: currentSliceEnd)
                    }
                }
                if let outs = onsites[st]?.addPick(p.time) {
                    collect(outs, station: st)
                }
            case .rejected(let r):
                enqueue(Pending(time: max(r.triggerTime, currentSliceEnd), rank: 1, keyRank: keyRank, sub: 0,
                                item: .rejection(r, feedsBuilder: isVertical)))
            case .reset(let t, let reason):
                enqueue(Pending(time: max(t, currentSliceEnd), rank: 0, keyRank: keyRank, sub: 3,
                                item: .notice("\(streams[s].key): picker restarted at \(t.iso8601): \(reason)")))
            }
        }
    }

    /// A snapshot is available at the end of its window, or (for windows replayed when a late pick
    /// arrives) when the pick became known, whichever is later.
    private mutating func enqueueSnapshot(_ p: StationParameters, station st: Int, samplingRateHz fs: Double,
                                          availableAt: Timestamp?) {
        guard let pickTime = p.pickTime else { return }
        let windowEnd = pickTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: p.windowSampleCount,
                                                                                    samplingRateHz: fs))
        let t = max(windowEnd, availableAt ?? windowEnd)
        enqueue(Pending(time: t, rank: 3, keyRank: stations[st].keyRank, sub: p.windowSampleCount,
                        item: .snapshot(station: st, pickTime: pickTime, p)))
    }

    private mutating func enqueue(_ p: Pending) { pending.append(p) }

    /// The minimum received watermark of the gating streams (nil if one has none, or none gates).
    private func minimumReceivedWatermark() -> Timestamp? {
        var low: Timestamp?
        for s in streams.indices where streams[s].gating {
            guard let w = streams[s].received else { return nil }
            low = low.map { min($0, w) } ?? w
        }
        return low
    }

    /// Everything at or before (minimum processed watermark of the gating streams − hold-back) may
    /// be released.
    private func releaseThreshold() -> Timestamp? {
        var low: Timestamp?
        for s in streams.indices where streams[s].gating {
            guard let w = streams[s].watermark else { return nil }
            low = low.map { min($0, w) } ?? w
        }
        return low?.adding(nanoseconds: -holdBackNanoseconds)
    }

    /// Releases the held records before `threshold` in (time, rank, key, sub) order to ``records``,
    /// advancing the event builder's clock in between.
    private mutating func release(upTo threshold: Timestamp?, issued: (WarningMessage) -> Void = { _ in }) {
        guard let threshold else { return }
        if !pending.isEmpty {
            // Partition (both parts keep their order; the sort below is stable).
            var ready: [Pending] = []
            swap(&ready, &readyPending)
            ready.removeAll(keepingCapacity: true)
            var kept = 0
            for i in pending.indices {
                if pending[i].time < threshold {
                    ready.append(pending[i])
                } else {
                    if kept != i { pending.swapAt(kept, i) }
                    kept += 1
                }
            }
            pending.removeLast(pending.count - kept)
            if ready.count > 1 { ready.sort(by: <) }
            for p in ready { releaseOne(p, issued: issued) }
            ready.removeAll(keepingCapacity: true)
            swap(&ready, &readyPending)
        }
        advanceClock(to: threshold, issued: issued)
    }

    private mutating func releaseOne(_ p: Pending, issued: (WarningMessage) -> Void) {
        advanceClock(to: p.time, issued: issued)
        switch p.item {
        case .notice(let message):
            records.append(.notice(time: p.time, message: message))
        case .pick(let pick, let feeds):
            records.append(.pick(pick, knownAt: p.time))
            if feeds { ingest(.pick(StationPick(pick)), issued: issued) }
        case .rejection(let r, let feeds):
            records.append(.rejection(r, knownAt: p.time))
            if feeds { ingest(.rejection(StationRejection(r)), issued: issued) }
        case .sPhase(let s):
            records.append(.sPick(s, knownAt: p.time))
            ingest(.sPhase(s), issued: issued)
        case .snapshot(let st, let pickTime, let parameters):
            // Onsite results computed (in data time) by the time the snapshot is available.
            let baz = stations[st].backAzimuth[pickTime].flatMap { $0.availableAt <= p.time ? $0.estimate : nil }
            let dist = stations[st].distance[pickTime].flatMap { $0.availableAt <= p.time ? $0.estimate : nil }
            ingest(.snapshot(StationSnapshot(station: stations[st].code, pickTime: pickTime, time: p.time,
                                             parameters: parameters, backAzimuth: baz, distance: dist)),
                   issued: issued)
        }
    }

    /// Advances the event builder's clock on the fixed grid up to `time`.
    mutating func advanceClock(to time: Timestamp, issued: (WarningMessage) -> Void) {
        let tickNs = clockTickNanoseconds
        let target = time.nanosecondsSinceEpoch / tickNs
        var k = clockTick.map { $0 + 1 } ?? target
        // Bound the work after a long data gap: jump to the last few ticks.
        if target - k > 100_000 { k = target - 100_000 }
        while k <= target {
            handle(builder.advance(to: Timestamp(nanosecondsSinceEpoch: k * tickNs)), issued: issued)
            k += 1
        }
        clockTick = max(clockTick ?? target, target)
    }

    mutating func ingest(_ input: EventBuilderInput, issued: (WarningMessage) -> Void) {
        handle(builder.ingest(input), issued: issued)
    }

    private mutating func handle(_ updates: [EventUpdate], issued: (WarningMessage) -> Void) {
        for d in builder.drainDecisions() { records.append(.decision(d)) }
        for u in updates {
            records.append(.event(u))
            warning(for: u, issued: issued)
        }
    }

    private mutating func warning(for u: EventUpdate, issued: (WarningMessage) -> Void) {
        do {
            let message: WarningMessage?
            switch u.messageType {
            case .cancel:
                guard issuer.history[u.id]?.isEmpty == false else { return }
                message = try issuer.cancel(eventID: u.id, now: u.time)
            default:
                guard let m = u.magnitude else { return }
                let solution = EarthquakeSolution(
                    eventID: u.id, originTime: u.originTime,
                    epicenter: GeoPoint(latitudeDegrees: u.epicenter.latitudeDegrees,
                                               longitudeDegrees: u.epicenter.longitudeDegrees),
                    depthKilometers: u.depthKilometers, magnitude: m.magnitude, magnitudeUncertainty: m.sigma,
                    magnitudeType: m.method.rawValue, numberOfStations: u.stationCount)
                message = try issuer.issue(solution, now: u.time)
            }
            guard let message else { return }
            issued(message)  // before the CAP rendering (off the critical path of the caller's send)
            let earlier = issuer.earlierMessages(before: message)
            if deferredCAP != nil {  // rendered at the end of process(_:issued:emit:)
                deferredCAP?.append((message, earlier))
                records.append(.warning(message, capXML: ""))
                return
            }
            let xml = renderer.render(message, earlier: earlier)
            records.append(.warning(message, capXML: xml))
        } catch {
            records.append(.notice(time: u.time, message: "\(u.id): no warning for update \(u.updateNumber): \(error)"))
        }
    }
}

/// The CAP 1.2 rendering of one warning, left to the caller by
/// ``ReplayPipeline/process(_:issued:emitDeferringCAP:)``: the message, the earlier messages of its
/// event as they were when it was issued, and the pipeline's renderer.
public struct PendingCAP: Sendable {
    public let message: WarningMessage
    public let earlier: [WarningMessage]
    let renderer: CAPRenderer

    /// The XML (`CAPRenderer.render(_:earlier:)`), the same as ``ReplayPipeline/process(_:)`` gives.
    public func render() -> String { renderer.render(message, earlier: earlier) }
}

/// One stream's input, re-cut into epoch-aligned slices (boundaries where the sample time crosses
/// a multiple of the slice length). A block that does not continue the stream within half a
/// sample (gap, overlap, other rate) closes the current segment: its remainder becomes a short
/// slice and a new segment starts.
///
/// The open segment is kept in one buffer that is appended to and trimmed in place (its capacity
/// is kept), so a block costs one copy of its samples plus one array per complete slice.
struct InputStream: Sendable {
    var slices: [SampleBlock] = []
    private var open: SampleBlock?

    mutating func append(_ block: SampleBlock, sliceNanoseconds: Int64) {
        if let current = open {
            let expected = current.endTimeExclusive
            let tolerance = 0.5e9 / current.samplingRateHz
            if current.samplingRateHz != block.samplingRateHz || current.unit != block.unit
                || Double(block.startTime.nanoseconds(since: expected)).magnitude > tolerance {
                close()
                open = block
            } else {
                open?.samples.append(contentsOf: block.samples)  // in place (optional chaining)
            }
        } else {
            open = block
        }
        cut(sliceNanoseconds: sliceNanoseconds)
    }

    /// Moves every complete slice of the open segment to ``slices``.
    private mutating func cut(sliceNanoseconds: Int64) {
        guard var segment = open else { return }
        open = nil  // `segment` is now the only reference to the buffer: trimmed in place below
        var start = 0
        let n = segment.samples.count
        while start < n {
            let t0 = segment.time(ofSample: start).nanosecondsSinceEpoch
            let boundary = (t0 / sliceNanoseconds + (t0 % sliceNanoseconds < 0 ? 0 : 1)) * sliceNanoseconds
            // First sample after `start` at or after the boundary (n if none): from the index the
            // rate predicts, corrected against the rounded sample times (monotonic in the index),
            // instead of testing every sample from `start` on.
            var end = start + 1
            let predicted = (Double(boundary &- segment.startTime.nanosecondsSinceEpoch) * segment.samplingRateHz / 1e9)
                .rounded(.up)
            if predicted.isFinite, predicted > Double(end) { end = predicted < Double(n) ? Int(predicted) : n }
            while end > start + 1, segment.time(ofSample: end - 1).nanosecondsSinceEpoch >= boundary { end -= 1 }
            while end < n, segment.time(ofSample: end).nanosecondsSinceEpoch < boundary { end += 1 }
            guard end < n else { break }  // the slice is not complete yet
            slices.append(SampleBlock(streamID: segment.streamID, startTime: segment.time(ofSample: start),
                                      samplingRateHz: segment.samplingRateHz, unit: segment.unit,
                                      samples: Array(segment.samples[start..<end])))
            start = end
        }
        if start > 0 {
            // The rest starts at sample `start` (its time as a new block's start, as before).
            segment.startTime = segment.time(ofSample: start)
            segment.samples.removeSubrange(0..<start)
        }
        open = segment
    }

    /// Hands the slices that end at or before `time` (all if nil) to `body` with their position in
    /// the queue, and keeps the others (in order).
    mutating func take(endingBy time: Timestamp?, _ body: (Int, SampleBlock) -> Void) {
        var kept = 0
        for i in slices.indices {
            if time.map({ slices[i].endTimeExclusive <= $0 }) ?? true {
                body(i, slices[i])
            } else {
                if kept != i { slices.swapAt(kept, i) }
                kept += 1
            }
        }
        slices.removeLast(slices.count - kept)
    }

    /// Ends the open segment: its remainder becomes a (short) slice.
    mutating func close() {
        if let segment = open, !segment.samples.isEmpty { slices.append(segment) }
        open = nil
    }
}

extension ReplayPipeline {
    /// What the pipeline holds between records, in items: queued input slices, hold-back queue
    /// entries, undelivered records and the stations' remembered back-azimuths and distances.
    /// Bounded for a live stream (tests of long runs).
    @_spi(Testing) public var heldItems: Int {
        streams.reduce(0) { $0 + $1.input.slices.count } + pending.count + records.count
            + stations.reduce(0) { $0 + $1.backAzimuth.count + $1.distance.count }
    }
}
