// `quakewarn magnitude`: P-wave station parameters and EEW magnitude per stream (design.md, interface contract).
import ArgumentParser
import Magnitude
import MiniSEED
import Picking
import SeismicCore

/// `quakewarn magnitude FILE… [--gain COUNTS_PER_M_S2] [--pick TIME] [--distance-km D] [--pre-roll mirror|none]`
///
/// Output: one JSON object per processed stream on stdout,
/// `{"stream","pickTime","windows":[{"secondsAfterPick","pdMeters","tauCSeconds","tauPMaxSeconds","magnitude","magnitudeSigma"}],"magnitude","magnitudeSigma","saturated"}`.
/// Human messages on stderr. Exit 0 on success, 2 on bad input (one line naming the file or option).
struct MagnitudeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "magnitude",
        abstract: "P-wave station parameters (Pd, τc, τp^max) and magnitude with uncertainty, as JSON lines.",
        discussion: """
            Input: acceleration records (accelerometers). For every station (NET.STA.LOC) of the \
            FILEs, the vertical channels (channel code ending in Z) are used when there are any; \
            otherwise every channel of the station is used, with a warning (the relations are for \
            vertical P waves; a horizontal or unknown-orientation channel gives biased values).

            Units: --gain is the digitizer gain in counts per m/s² (acceleration = value / gain). It \
            is required when a stream is stored as integers (INT16/INT32/STEIM1/STEIM2: counts); \
            for FLOAT32/FLOAT64 streams without --gain the values are taken as m/s² (warning).

            Pick: --pick TIME (ISO-8601 UTC) for every stream; otherwise the first trigger of a \
            recursive STA/LTA (STA 0.5 s, LTA 5 s, ON 3.5) on the offset-removed, 0.075 Hz \
            high-passed acceleration (the magnitude chain's own first stage), refined by the AIC \
            onset re-picker when its SNR is sufficient (else the trigger sample is the pick).

            Chain (CWB real-time chain, Magnitude.RealTimeStationProcessor): running-mean removal, \
            2-pole Butterworth high-pass 0.075 Hz, trapezoid integration to velocity, high-pass, \
            integration to displacement, high-pass. Windows start at the pick and are reported every \
            0.5 s up to 3 s, or up to the expected S arrival R (1/3.5 - 1/6) s when --distance-km R \
            (hypocentral, km) is given. With R: Pd magnitudes (Kuyuk & Allen 2013, Wu & Zhao 2006) \
            plus τc and τp^max magnitudes; without R: τc and τp^max only; combined by inverse \
            variance; τc and τp^max are left out of a window whose displacement SNR (Pd over the \
            peak |u| of the 5 s before the pick) is below 3 (warning). "saturated" (last window) means the value is a lower bound (M >= 6.5 or a \
            period at the window length).

            Warm-up: the 0.075 Hz filters need about 60 s of data before the pick; event files often \
            have 10-20 s. --pre-roll mirror (default) first runs the chain over the stream's own \
            pre-event noise (samples up to 1 s before the pick), mirrored back and forth to 60 s \
            and ending continuously at the first sample, as a continuously running station would \
            have; --pre-roll none starts the chain at the first sample of the record.
            A stream with gaps uses the segment that contains the pick. No trigger: a line with \
            "pickTime": null and no windows (not an error).
            """
    )

    @Argument(help: "miniSEED files (acceleration).")
    var files: [String] = []

    @Option(help: "Digitizer gain, counts per m/s² (required for integer data).")
    var gain: String?

    @Option(help: "P pick time, ISO-8601 UTC (e.g. 1996-08-10T18:12:33.150Z); default: automatic.")
    var pick: String?

    @Option(name: .customLong("distance-km"), help: "Hypocentral distance R in km (enables the Pd relations).")
    var distanceKm: String?

    @Option(name: .customLong("pre-roll"), help: "Filter warm-up before the record: mirror (default) or none.")
    var preRoll: String = "mirror"

    /// Validated options.
    struct Settings {
        var gain: Double?
        var pick: Timestamp?
        var distanceKilometers: Double?
        var mirrorPreRoll: Bool
    }

    /// Automatic picker defaults (documented in the discussion above).
    enum AutoPick {
        static let staSeconds = 0.5
        static let ltaSeconds = 5.0
        static let onThreshold = 3.5
        static let offThreshold = 0.5
    }

    /// Seconds of pre-event data excluded before the pick when building the mirror pre-roll.
    static let preRollGuardSeconds = 1.0

    func checkedSettings() throws -> Settings {
        guard !files.isEmpty else { throw Self.fail("no FILE given (usage: quakewarn magnitude FILE…)") }
        var settings = Settings(gain: nil, pick: nil, distanceKilometers: nil, mirrorPreRoll: true)
        if let gain {
            guard let g = Double(gain), g.isFinite, g > 0 else {
                throw Self.fail("--gain: '\(gain)' is not a finite number > 0 (counts per m/s²)")
            }
            settings.gain = g
        }
        if let pick {
            guard let t = Timestamp(iso8601: pick) else {
                throw Self.fail("--pick: '\(pick)' is not an ISO-8601 UTC time (e.g. 2024-01-01T00:00:00.5Z)")
            }
            settings.pick = t
        }
        if let distanceKm {
            guard let r = Double(distanceKm), r.isFinite, r > 0 else {
                throw Self.fail("--distance-km: '\(distanceKm)' is not a finite number > 0 (km)")
            }
            settings.distanceKilometers = r
        }
        switch preRoll {
        case "mirror": settings.mirrorPreRoll = true
        case "none": settings.mirrorPreRoll = false
        default: throw Self.fail("--pre-roll: '\(preRoll)' is not mirror or none")
        }
        return settings
    }

    func run() throws {
        let settings = try checkedSettings()
        var failures = 0
        // Read every file first: the vertical-channel choice is per station, across files.
        var inputs: [(file: String, volume: MiniSEEDVolume)] = []
        for file in files {
            do {
                let volume = try MiniSEEDReader.read(path: file)
                for problem in volume.problems { Self.printError("warning: skipped bad record: \(problem)") }
                if !volume.problems.isEmpty { failures += 1 }
                if volume.segments.isEmpty {
                    Self.printError("\(file): no waveform samples")
                    failures += 1
                    continue
                }
                inputs.append((file, volume))
            } catch {
                Self.printError("\(error)")
                failures += 1
            }
        }
        for stream in Self.selectStreams(inputs) {
            do {
                Console.output(try process(stream, settings: settings))
            } catch {
                Self.printError(error.message)
                failures += 1
            }
        }
        if failures > 0 {
            Self.printError("\(failures) input problem(s)")
            throw ExitCode(2)
        }
    }

    // MARK: - Stream selection

    struct StreamInput {
        var file: String
        var streamID: StreamID
        var segments: [SampleBlock]
        var encodings: Set<MiniSEEDEncoding>
    }

    /// Streams to process, in file then stream order: per station (NET.STA.LOC) the …Z channels
    /// if there are any, else all channels of the station (with a warning).
    static func selectStreams(_ inputs: [(file: String, volume: MiniSEEDVolume)]) -> [StreamInput] {
        var all: [StreamInput] = []
        for (file, volume) in inputs {
            for summary in volume.streams {
                all.append(StreamInput(file: file, streamID: summary.streamID,
                                       segments: volume.segments(of: summary.streamID),
                                       encodings: volume.encodings[summary.streamID] ?? []))
            }
        }
        func stationKey(_ id: StreamID) -> String { "\(id.network).\(id.station).\(id.location)" }
        var verticalStations = Set<String>()
        for s in all where s.streamID.channel.uppercased().hasSuffix("Z") { verticalStations.insert(stationKey(s.streamID)) }
        var warned = Set<String>()
        var selected: [StreamInput] = []
        for s in all {
            let key = stationKey(s.streamID)
            if verticalStations.contains(key) {
                if s.streamID.channel.uppercased().hasSuffix("Z") { selected.append(s) }
            } else {
                if !warned.contains(key) {
                    warned.insert(key)
                    printError("warning: \(key): no vertical (…Z) channel; using \(s.streamID.channel) and any other "
                        + "channels of the station (relations are for vertical P: values are biased)")
                }
                selected.append(s)
            }
        }
        return selected
    }

    // MARK: - Processing

    private func process(_ input: StreamInput, settings: Settings) throws(InputError) -> String {
        let name = "\(input.file): \(input.streamID)"
        let integerEncodings: Set<MiniSEEDEncoding> = [.int16, .int32, .steim1, .steim2]
        let isInteger = !input.encodings.isDisjoint(with: integerEncodings) || input.encodings.isEmpty
        let gain: Double
        if let g = settings.gain {
            gain = g
        } else if isInteger {
            throw InputError("\(name): integer (counts) data need --gain COUNTS_PER_M_S2")
        } else {
            gain = 1
            Self.printError("warning: \(name): no --gain; floating-point values are taken as m/s²")
        }
        // The segment and the pick.
        let segment: SampleBlock
        let pickIndex: Int?
        if let t = settings.pick {
            guard let s = input.segments.first(where: { t >= $0.startTime && t < $0.endTimeExclusive }) else {
                throw InputError("\(name): --pick \(t.iso8601) is outside the stream's data")
            }
            segment = s
            pickIndex = Int((t.seconds(since: s.startTime) * s.samplingRateHz).rounded())
        } else {
            var found: (SampleBlock, Int)?
            for s in input.segments {
                if let p = try Self.autoPick(s, name: name) {
                    found = (s, p)
                    break
                }
            }
            if let found {
                segment = found.0
                pickIndex = found.1
            } else {
                segment = input.segments[0]
                pickIndex = nil
            }
        }
        if input.segments.count > 1 {
            Self.printError("warning: \(name): \(input.segments.count) segments (gaps); using the one starting "
                + "\(segment.startTime.iso8601)")
        }
        guard let pickIndex else {
            Self.printError("warning: \(name): no P trigger found")
            return Self.line(stream: input.streamID.description, pickTime: nil, windows: [], final: nil)
        }
        let fs = segment.samplingRateHz
        var config = StationParameterConfiguration(samplingRateHz: fs, countsPerMeterPerSecondSquared: gain)
        config.lookbackSeconds = 0
        // Pre-roll: the pre-event samples [1, pick − guard), mirrored, ending with …x2, x1 so that
        // the record's x0 follows continuously.
        var preRoll: [Double] = []
        let guardSamples = SampleBlock.sampleCount(seconds: Self.preRollGuardSeconds, samplingRateHz: fs)
        let noiseEnd = pickIndex - guardSamples
        if settings.mirrorPreRoll {
            if noiseEnd >= 3 {
                let forward = Array(segment.samples[1..<noiseEnd])
                let period = forward + forward.reversed()
                let target = SampleBlock.sampleCount(seconds: config.recommendedWarmUpSeconds, samplingRateHz: fs)
                let repeats = max(1, (target + period.count - 1) / period.count)
                preRoll.reserveCapacity(repeats * period.count)
                for _ in 0..<repeats { preRoll += period }
            } else {
                Self.printError("warning: \(name): less than \(Self.preRollGuardSeconds) s of data before the pick; no pre-roll")
            }
        }
        let preEventSeconds = Double(pickIndex + preRoll.count) / fs
        if preEventSeconds < config.recommendedWarmUpSeconds {
            Self.printError("warning: \(name): only \(preEventSeconds) s of data before the pick (the 0.075 Hz chain "
                + "needs about \(Int(config.recommendedWarmUpSeconds)) s); Pd and τc may include the filters' start-up transient")
        }
        var processor: RealTimeStationProcessor
        do {
            processor = try RealTimeStationProcessor(configuration: config)
            try processor.beginWindow(atPickSample: preRoll.count + pickIndex,
                                      hypocentralDistanceKilometers: settings.distanceKilometers)
        } catch {
            throw InputError("\(name): \(error)")
        }
        var snapshots: [StationParameters] = []
        preRoll.withUnsafeBufferPointer { processor.process($0) { snapshots.append($0) } }
        segment.samples.withUnsafeBufferPointer { processor.process($0) { snapshots.append($0) } }
        if snapshots.last?.isFinal != true {
            Self.printError("warning: \(name): the record ends \(snapshots.last?.secondsAfterPick ?? 0) s after the pick, "
                + "before the full window")
        }
        let estimator = StationMagnitudeEstimator()
        let windows = snapshots.map { ($0, estimator.estimate($0)) }
        if let last = windows.last, last.1.lowSignalToNoise {
            Self.printError("warning: \(name): displacement SNR \(last.0.displacementSignalToNoise ?? 0) below "
                + "\(estimator.minimumDisplacementSignalToNoise): τc and τp^max not used")
        }
        let pickTime = segment.time(ofSample: pickIndex)
        return Self.line(stream: input.streamID.description, pickTime: pickTime, windows: windows, final: windows.last?.1)
    }

    /// First STA/LTA trigger on the chain's high-passed acceleration, refined by AIC if accepted.
    static func autoPick(_ segment: SampleBlock, name: String) throws(InputError) -> Int? {
        let fs = segment.samplingRateHz
        var mean: RunningMeanRemover
        var highPass: ButterworthBiquad
        var stalta: RecursiveSTALTA
        var trigger: TriggerOnset
        do {
            mean = try RunningMeanRemover(timeConstantSeconds: 10, samplingRateHz: fs)
            highPass = try ButterworthBiquad(.highPass, cornerHz: 0.075, samplingRateHz: fs)
        } catch {
            throw InputError("\(name): \(error)")
        }
        do {
            stalta = try RecursiveSTALTA(staSeconds: AutoPick.staSeconds, ltaSeconds: AutoPick.ltaSeconds, samplingRateHz: fs)
            trigger = try TriggerOnset(onThreshold: AutoPick.onThreshold, offThreshold: AutoPick.offThreshold)
        } catch {
            throw InputError("\(name): \(error)")
        }
        var acceleration = segment.samples
        for i in acceleration.indices { acceleration[i] = highPass.step(mean.step(acceleration[i])) }
        let cf = stalta.process(acceleration)
        var first: Int?
        cf.withUnsafeBufferPointer { buf in
            trigger.process(buf) { t in if first == nil { first = t.onSample } }
        }
        if first == nil, let last = trigger.finish() { first = last.onSample }
        guard let onSample = first else { return nil }
        return refine(trigger: onSample, acceleration: acceleration, segment: segment)
    }

    /// AIC onset re-pick (Picking.AICRepicker, Maeda 1985; default window 3 s before / 0.5 s after
    /// the trigger, minimum SNR 3) on the same high-passed acceleration; the trigger sample itself
    /// when the re-pick is rejected (too little data or SNR below the minimum).
    static func refine(trigger: Int, acceleration: [Double], segment: SampleBlock) -> Int {
        guard let repicker = try? AICRepicker() else { return trigger }
        let result = acceleration.withUnsafeBufferPointer { buf in
            repicker.repick(samples: buf, startTime: segment.startTime, samplingRateHz: segment.samplingRateHz,
                            triggerSample: trigger)
        }
        switch result {
        case let .success(r): return r.sampleIndex
        case .failure: return trigger
        }
    }

    // MARK: - Output

    static func line(stream: String, pickTime: Timestamp?, windows: [(StationParameters, StationMagnitude)],
                     final: StationMagnitude?) -> String {
        func number(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
        let items: [JSONValue] = windows.map { p, m in
            .object([
                ("secondsAfterPick", .number(p.secondsAfterPick)),
                ("pdMeters", .number(p.peakDisplacementMeters)),
                ("tauCSeconds", number(p.tauCSeconds)),
                ("tauPMaxSeconds", number(p.tauPMaxSeconds)),
                ("magnitude", number(m.combined?.magnitude)),
                ("magnitudeSigma", number(m.combined?.sigma)),
            ])
        }
        return JSONValue.object([
            ("stream", .string(stream)),
            ("pickTime", pickTime.map { .string($0.iso8601) } ?? .null),
            ("windows", .array(items)),
            ("magnitude", number(final?.combined?.magnitude)),
            ("magnitudeSigma", number(final?.combined?.sigma)),
            ("saturated", .bool(final?.saturated ?? false)),
        ]).text
    }

}

