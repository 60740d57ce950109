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

    /// Per-station state.
    private struct Station: Sendable {
        var config: StationConfiguration
        var code: String  // NET.STA
        var processor: RealTimeStationProcessor?
        var processorFailed = false
        var onsite: OnsiteStationAnalyzer?
        var backAzimuth: [Timestamp: (estimate: BackAzimuthEstimate, availableAt: Timestamp)] = [:]
        var distance: [Timestamp: (estimate: EpicentralDistanceEstimate, availableAt: Timestamp)] = [:]
    }

    /// An item waiting in the hold-back queue.
    private struct Pending: Sendable {
        enum Item: Sendable {
            case pick(GlitchRejectingPicker.Pick, feedsBuilder: Bool)
            case rejection(GlitchRejectingPicker.RejectedTrigger, feedsBuilder: Bool)
            case snapshot(station: String, pickTime: Timestamp, StationParameters)
            case notice(String)
        }
        var time: Timestamp
        var rank: Int
        var key: String
        var sub: Int
        var item: Item

        static func < (a: Pending, b: Pending) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.rank != b.rank { return a.rank < b.rank }
            if a.key != b.key { return a.key < b.key }
            return a.sub < b.sub
        }
    }

    public let configuration: Configuration
    private var stations: [String: Station] = [:]          // by NET.STA
    private var channelToStation: [StreamID: String] = [:] // configured streams
    private var pickers: [StreamID: GlitchRejectingPicker] = [:]
    private var watermarks: [StreamID: Timestamp] = [:]          // end of processed data
    private var receivedWatermarks: [StreamID: Timestamp] = [:]  // end of received data
    private var inputs: [StreamID: InputStream] = [:]
    private let sliceNanoseconds: Int64
    private var ignoredStreams: Set<StreamID> = []
    private var pending: [Pending] = []
    private var builder: EventBuilder
    private var issuer: WarningIssuer
    private let renderer: CAPRenderer
    private var clockTick: Int64?
    private var dataEnd: Timestamp?
    /// End of the slice being processed: the data time at which its outputs become known.
    private var currentSliceEnd = Timestamp(nanosecondsSinceEpoch: 0)
    private let expectedStreams: Set<StreamID>
    /// The expected streams that currently gate processing and release (all of them unless stalled).
    private var gate: Set<StreamID>
    /// Start of the first block received (the implicit watermark of a stream that never delivered).
    private var firstDataTime: Timestamp?
    /// While ``process(_:issued:emit:)`` runs: the warnings whose CAP XML is still to be rendered,
    /// with the earlier messages of their event at their issue (nil: render at once).
    private var deferredCAP: [(message: WarningMessage, earlier: [WarningMessage])]?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        self.sliceNanoseconds = Int64((configuration.sliceSeconds * 1e9).rounded())
        let q = configuration.quakeWarn
        var stations: [String: Station] = [:]
        var channels: [StreamID: String] = [:]
        for s in q.stations {
            let code = "\(s.network).\(s.station)"
            stations[code] = Station(config: s, code: code)
            for ch in s.channels {
                channels[StreamID(network: s.network, station: s.station, location: s.location, channel: ch)] = code
            }
        }
        self.stations = stations
        self.channelToStation = channels
        self.expectedStreams = configuration.expectedStreams.map { $0.filter { channels[$0] != nil } }
            ?? Set(channels.keys)
        self.gate = self.expectedStreams
        builder = EventBuilder(EventBuilder.Configuration(stations: q.stations.map(\.metadata)))
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
        let id = block.streamID
        guard channelToStation[id] != nil else {
            if ignoredStreams.insert(id).inserted {
                emit(.notice(time: block.startTime, message: "\(id): not in the configuration; stream ignored"), nil)
            }
            return
        }
        guard !block.samples.isEmpty, block.samplingRateHz.isFinite, block.samplingRateHz > 0 else { return }
        var input = inputs[id] ?? InputStream()
        input.append(block, sliceNanoseconds: sliceNanoseconds)
        inputs[id] = input
        let end = block.endTimeExclusive
        receivedWatermarks[id] = max(receivedWatermarks[id] ?? end, end)
        if firstDataTime == nil { firstDataTime = block.startTime }
        var out: [PipelineRecord] = []
        if let timeout = configuration.stallTimeoutSeconds { out = updateGate(timeout: timeout, now: end) }
        deferredCAP = []
        if let t = minimumWatermark(receivedWatermarks) {
            processSlices(endingBy: t, releasing: true, issued: issued, emit: { out.append($0) })
        }
        out += release(upTo: releaseThreshold(), issued: issued)
        let jobs = deferredCAP ?? []
        deferredCAP = nil
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
    public var gatingStreams: Set<StreamID> { gate }

    /// Drops lagging streams from the gate and re-admits those that caught up.
    private mutating func updateGate(timeout: Double, now: Timestamp) -> [PipelineRecord] {
        guard let first = firstDataTime else { return [] }
        var lead: Timestamp?
        for id in expectedStreams {
            if let w = receivedWatermarks[id] { lead = lead.map { max($0, w) } ?? w }
        }
        guard let lead else { return [] }
        let limit = Int64((timeout * 1e9).rounded())
        var out: [PipelineRecord] = []
        for id in expectedStreams.sorted() where gate.contains(id) {
            let w = receivedWatermarks[id] ?? first
            if lead.nanoseconds(since: w) > limit {
                gate.remove(id)
                out.append(.notice(time: now, message: "\(id): stalled (data end \(w.iso8601), \(timeout) s behind "
                                   + "\(lead.iso8601)); it no longer holds the other streams back"))
            }
        }
        // Hysteresis: back in the gate once within half the timeout of the lead.
        for id in expectedStreams.sorted() where !gate.contains(id) {
            if let w = receivedWatermarks[id], lead.nanoseconds(since: w) <= limit / 2 {
                gate.insert(id)
                out.append(.notice(time: now, message: "\(id): caught up (data end \(w.iso8601)); it gates processing again"))
            }
        }
        return out
    }

    /// Processes the queued slices that end at or before `time`, in (start, stream) order.
    ///
    /// With `releasing`, the records each slice releases are emitted after it (see ``process(_:emit:)``);
    /// without, they stay pending for the caller's ``release(upTo:)``.
    private mutating func processSlices(endingBy time: Timestamp?, releasing: Bool = false,
                                        issued: (WarningMessage) -> Void = { _ in },
                                        emit: (PipelineRecord) -> Void = { _ in }) {
        var ready: [(index: Int, slice: SampleBlock)] = []
        for id in inputs.keys {
            guard var input = inputs[id] else { continue }
            var kept: [SampleBlock] = []
            for (i, slice) in input.slices.enumerated() {
                if time.map({ slice.endTimeExclusive <= $0 }) ?? true { ready.append((i, slice)) } else { kept.append(slice) }
            }
            input.slices = kept
            inputs[id] = input
        }
        // Total order (an overlap can give two slices of one stream the same start: keep arrival order).
        ready.sort { a, b in
            if a.slice.startTime != b.slice.startTime { return a.slice.startTime < b.slice.startTime }
            if a.slice.streamID != b.slice.streamID { return a.slice.streamID < b.slice.streamID }
            return a.index < b.index
        }
        for r in ready {
            processSlice(r.slice)
            if releasing {
                for record in release(upTo: releaseThreshold(), issued: issued) { emit(record) }
            }
        }
    }

    private mutating func processSlice(_ block: SampleBlock) {
        let id = block.streamID
        // Taken out of the dictionary (and put back at the end) so that this is the only reference
        // to its buffers: mutating a copy that the dictionary still shares would copy every
        // history array on each slice (copy-on-write), which cost milliseconds per record.
        guard let code = channelToStation[id], var station = stations.removeValue(forKey: code) else { return }
        let end = block.endTimeExclusive
        if dataEnd.map({ end > $0 }) ?? true { dataEnd = end }
        watermarks[id] = max(watermarks[id] ?? end, end)
        currentSliceEnd = end
        let isVertical = id.component == "Z" || id.component == "3"
        let fs = block.samplingRateHz

        // Onsite analysis (all three components).
        if station.onsite == nil {
            var onsite = configuration.onsite
            onsite.verticalCountsPerMetersPerSecondSquared = station.config.sensitivityCountsPerMetersPerSecondSquared
            station.onsite = OnsiteStationAnalyzer(onsite, samplingRateHz: fs)
        }
        if let outputs = station.onsite?.process(block) {  // in place (optional chaining), no copy
            collect(outputs, into: &station)
        }

        // Station parameters on the vertical.
        if isVertical {
            if station.processor == nil, !station.processorFailed {
                do {
                    station.processor = try RealTimeStationProcessor(configuration: StationParameterConfiguration(
                        samplingRateHz: fs,
                        countsPerMeterPerSecondSquared: station.config.sensitivityCountsPerMetersPerSecondSquared,
                        pWaveSpeedKilometersPerSecond: configuration.quakeWarn.alerting.pWaveVelocityKilometersPerSecond,
                        sWaveSpeedKilometersPerSecond: configuration.quakeWarn.alerting.sWaveVelocityKilometersPerSecond))
                } catch {
                    station.processorFailed = true
                    enqueue(Pending(time: currentSliceEnd, rank: 0, key: id.description, sub: 4,
                                    item: .notice("\(id): no station parameters: \(error)")))
                }
            }
            if station.processor != nil {
                var snapshots: [StationParameters] = []
                do {
                    try station.processor?.process(block) { snapshots.append($0) }
                } catch {
                    enqueue(Pending(time: currentSliceEnd, rank: 0, key: id.description, sub: 0,
                                    item: .notice("\(id): station parameters restarted: \(error)")))
                    station.processor?.reset()
                    try? station.processor?.process(block) { snapshots.append($0) }
                }
                for p in snapshots { enqueueSnapshot(p, station: code, samplingRateHz: fs, availableAt: nil) }
            }
        }

        // Picker.
        if pickers[id] == nil {
            do {
                pickers[id] = try GlitchRejectingPicker(configuration.picker, streamID: id, samplingRateHz: fs)
            } catch {
                enqueue(Pending(time: currentSliceEnd, rank: 0, key: id.description, sub: 5,
                                item: .notice("\(id): picker not started: \(error)")))
            }
        }
        if let outputs = pickers[id]?.process(block) {  // in place through the dictionary's accessor
            handlePicker(outputs, streamID: id, station: &station, isVertical: isVertical)
        }
        stations[code] = station
    }

    /// Ends the input: flushes the pickers and releases every held record.
    public mutating func finish() -> [PipelineRecord] {
        for id in inputs.keys {
            inputs[id]?.close()
        }
        processSlices(endingBy: nil)
        for id in pickers.keys.sorted() {
            guard var picker = pickers[id], let code = channelToStation[id], var station = stations[code] else { continue }
            currentSliceEnd = watermarks[id] ?? currentSliceEnd
            let outputs = picker.finish()
            pickers[id] = picker
            handlePicker(outputs, streamID: id, station: &station, isVertical: id.component == "Z" || id.component == "3")
            stations[code] = station
        }
        let last = pending.map(\.time).max().map { t in dataEnd.map { max($0, t) } ?? t } ?? dataEnd
        let out = release(upTo: last?.adding(nanoseconds: 1))
        return out
    }

    // MARK: - Internals

    private mutating func collect(_ outputs: [OnsiteStationAnalyzer.Output], into station: inout Station) {
        for o in outputs {
            switch o {
            case .backAzimuth(let t, let estimate): station.backAzimuth[t] = (estimate, currentSliceEnd)
            case .distance(let t, _, let estimate): station.distance[t] = (estimate, currentSliceEnd)
            case .failed(let t, let what, let reason):
                enqueue(Pending(time: currentSliceEnd, rank: 0, key: station.code, sub: 1,
                                item: .notice("\(station.code): onsite \(what) analysis of the pick at \(t.iso8601) failed: \(reason)")))
            }
        }
    }

    private mutating func handlePicker(_ outputs: [GlitchRejectingPicker.Output], streamID id: StreamID,
                                       station: inout Station, isVertical: Bool) {
        for o in outputs {
            switch o {
            case .pick(let p):
                enqueue(Pending(time: max(p.time, currentSliceEnd), rank: 2, key: id.description, sub: 0,
                                item: .pick(p, feedsBuilder: isVertical)))
                guard isVertical else { continue }
                if var processor = station.processor {
                    var snapshots: [StationParameters] = []
                    do {
                        try processor.pick(at: p.time) { snapshots.append($0) }
                    } catch {
                        enqueue(Pending(time: currentSliceEnd, rank: 0, key: id.description, sub: 2,
                                        item: .notice("\(id): no station parameters for the pick at \(p.time.iso8601): \(error)")))
                    }
                    station.processor = processor
                    let fs = processor.configuration.samplingRateHz
                    for s in snapshots {
                        enqueueSnapshot(s, station: station.code, samplingRateHz: fs, availableAt: currentSliceEnd)
                    }
                }
                if var onsite = station.onsite {
                    let outs = onsite.addPick(p.time)
                    station.onsite = onsite
                    collect(outs, into: &station)
                }
            case .rejected(let r):
                enqueue(Pending(time: max(r.triggerTime, currentSliceEnd), rank: 1, key: id.description, sub: 0,
                                item: .rejection(r, feedsBuilder: isVertical)))
            case .reset(let t, let reason):
                enqueue(Pending(time: max(t, currentSliceEnd), rank: 0, key: id.description, sub: 3,
                                item: .notice("\(id): picker restarted at \(t.iso8601): \(reason)")))
            }
        }
    }

    /// A snapshot is available at the end of its window, or (for windows replayed when a late pick
    /// arrives) when the pick became known, whichever is later.
    private mutating func enqueueSnapshot(_ p: StationParameters, station: String, samplingRateHz fs: Double,
                                          availableAt: Timestamp?) {
        guard let pickTime = p.pickTime else { return }
        let windowEnd = pickTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: p.windowSampleCount,
                                                                                    samplingRateHz: fs))
        let t = max(windowEnd, availableAt ?? windowEnd)
        enqueue(Pending(time: t, rank: 3, key: station, sub: p.windowSampleCount,
                        item: .snapshot(station: station, pickTime: pickTime, p)))
    }

    private mutating func enqueue(_ p: Pending) { pending.append(p) }

    /// Everything at or before (minimum stream watermark − hold-back) may be released.
    private func minimumWatermark(_ marks: [StreamID: Timestamp]) -> Timestamp? {
        var low: Timestamp?
        for id in gate {
            guard let w = marks[id] else { return nil }
            low = low.map { min($0, w) } ?? w
        }
        return low
    }

    private func releaseThreshold() -> Timestamp? {
        guard let low = minimumWatermark(watermarks) else { return nil }
        return low.adding(nanoseconds: -Int64((configuration.holdBackSeconds * 1e9).rounded()))
    }

    private mutating func release(upTo threshold: Timestamp?,
                                  issued: (WarningMessage) -> Void = { _ in }) -> [PipelineRecord] {
        guard let threshold else { return [] }
        var ready: [Pending] = []
        var keep: [Pending] = []
        for p in pending {
            if p.time < threshold { ready.append(p) } else { keep.append(p) }
        }
        pending = keep
        ready.sort(by: <)
        var out: [PipelineRecord] = []
        for p in ready {
            out += advanceClock(to: p.time, issued: issued)
            switch p.item {
            case .notice(let message):
                out.append(.notice(time: p.time, message: message))
            case .pick(let pick, let feeds):
                out.append(.pick(pick, knownAt: p.time))
                if feeds { out += ingest(.pick(StationPick(pick)), issued: issued) }
            case .rejection(let r, let feeds):
                out.append(.rejection(r, knownAt: p.time))
                if feeds { out += ingest(.rejection(StationRejection(r)), issued: issued) }
            case .snapshot(let code, let pickTime, let parameters):
                let station = stations[code]
                // Onsite results computed (in data time) by the time the snapshot is available.
                let baz = station?.backAzimuth[pickTime].flatMap { $0.availableAt <= p.time ? $0.estimate : nil }
                let dist = station?.distance[pickTime].flatMap { $0.availableAt <= p.time ? $0.estimate : nil }
                out += ingest(.snapshot(StationSnapshot(station: code, pickTime: pickTime, time: p.time,
                                                        parameters: parameters, backAzimuth: baz, distance: dist)),
                              issued: issued)
            }
        }
        return out + advanceClock(to: threshold, issued: issued)
    }

    /// Advances the event builder's clock on the fixed grid up to `time`.
    private mutating func advanceClock(to time: Timestamp, issued: (WarningMessage) -> Void) -> [PipelineRecord] {
        let tickNs = Int64((configuration.clockTickSeconds * 1e9).rounded())
        let target = time.nanosecondsSinceEpoch / tickNs
        var out: [PipelineRecord] = []
        var k = clockTick.map { $0 + 1 } ?? target
        // Bound the work after a long data gap: jump to the last few ticks.
        if target - k > 100_000 { k = target - 100_000 }
        while k <= target {
            out += handle(builder.advance(to: Timestamp(nanosecondsSinceEpoch: k * tickNs)), issued: issued)
            k += 1
        }
        clockTick = max(clockTick ?? target, target)
        return out
    }

    private mutating func ingest(_ input: EventBuilderInput, issued: (WarningMessage) -> Void) -> [PipelineRecord] {
        handle(builder.ingest(input), issued: issued)
    }

    private mutating func handle(_ updates: [EventUpdate], issued: (WarningMessage) -> Void) -> [PipelineRecord] {
        var out: [PipelineRecord] = builder.drainDecisions().map { .decision($0) }
        for u in updates {
            out.append(.event(u))
            out += warning(for: u, issued: issued)
        }
        return out
    }

    private mutating func warning(for u: EventUpdate, issued: (WarningMessage) -> Void) -> [PipelineRecord] {
        do {
            let message: WarningMessage?
            switch u.messageType {
            case .cancel:
                guard issuer.history[u.id]?.isEmpty == false else { return [] }
                message = try issuer.cancel(eventID: u.id, now: u.time)
            default:
                guard let m = u.magnitude else { return [] }
                let solution = EarthquakeSolution(
                    eventID: u.id, originTime: u.originTime,
                    epicenter: GeoPoint(latitudeDegrees: u.epicenter.latitudeDegrees,
                                               longitudeDegrees: u.epicenter.longitudeDegrees),
                    depthKilometers: u.depthKilometers, magnitude: m.magnitude, magnitudeUncertainty: m.sigma,
                    magnitudeType: m.method.rawValue, numberOfStations: u.stationCount)
                message = try issuer.issue(solution, now: u.time)
            }
            guard let message else { return [] }
            issued(message)  // before the CAP rendering (off the critical path of the caller's send)
            let earlier = issuer.earlierMessages(before: message)
            if deferredCAP != nil {  // rendered at the end of process(_:issued:emit:)
                deferredCAP?.append((message, earlier))
                return [.warning(message, capXML: "")]
            }
            let xml = renderer.render(message, earlier: earlier)
            return [.warning(message, capXML: xml)]
        } catch {
            return [.notice(time: u.time, message: "\(u.id): no warning for update \(u.updateNumber): \(error)")]
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
                open?.samples.append(contentsOf: block.samples)
            }
        } else {
            open = block
        }
        cut(sliceNanoseconds: sliceNanoseconds)
    }

    /// Moves every complete slice of the open segment to ``slices``.
    private mutating func cut(sliceNanoseconds: Int64) {
        guard var segment = open else { return }
        var start = 0
        let n = segment.samples.count
        while start < n {
            let t0 = segment.time(ofSample: start).nanosecondsSinceEpoch
            let boundary = (t0 / sliceNanoseconds + (t0 % sliceNanoseconds < 0 ? 0 : 1)) * sliceNanoseconds
            // First sample at or after the boundary.
            var end = start + 1
            while end < n, segment.time(ofSample: end).nanosecondsSinceEpoch < boundary { end += 1 }
            guard end < n else { break }  // the slice is not complete yet
            slices.append(SampleBlock(streamID: segment.streamID, startTime: segment.time(ofSample: start),
                                      samplingRateHz: segment.samplingRateHz, unit: segment.unit,
                                      samples: Array(segment.samples[start..<end])))
            start = end
        }
        if start > 0 {
            let rest = SampleBlock(streamID: segment.streamID, startTime: segment.time(ofSample: start),
                                   samplingRateHz: segment.samplingRateHz, unit: segment.unit,
                                   samples: Array(segment.samples[start...]))
            segment = rest
        }
        open = segment
    }

    /// Ends the open segment: its remainder becomes a (short) slice.
    mutating func close() {
        if let segment = open, !segment.samples.isEmpty { slices.append(segment) }
        open = nil
    }
}
