// `quakewarn pick`: STA/LTA triggers of miniSEED files as JSON lines (design.md, interface contract).
import ArgumentParser
import Foundation
import MiniSEED
import Picking
import SeismicCore
import SignalProcessing

/// `quakewarn pick FILE… [--method recursive|classic] [--sta S] [--lta S] [--on X] [--off Y]
/// [--demean] [--filter none|highpass:F|bandpass:F1:F2] [--chunk N] [--cf-out DIR]`
///
/// Output: one JSON object per trigger on stdout,
/// `{"stream","onSample","offSample","onTime","offTime","pickTime"}`, in file order, then stream
/// order, then time. Human messages go to stderr. Exit 0 on success, 2 on bad input (one line
/// naming the file or option); a bad file does not stop the others, the exit code is 2 at the end.
struct PickCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pick",
        abstract: "Detect P-wave triggers with STA/LTA and print them as JSON lines.",
        discussion: """
            For every stream (NET.STA.LOC.CHA) of every FILE, computes the STA/LTA characteristic \
            function (ObsPy recursive_sta_lta or classic_sta_lta numerics) and ObsPy trigger_onset \
            triggers, and prints one JSON line per trigger:
              {"stream":"BW.RJOB..EHZ","onSample":1,"offSample":2,"onTime":"…Z","offTime":"…Z","pickTime":"…Z"}
            onSample/offSample are 0-based sample indices into the stream's contiguous segment \
            (a stream with gaps is processed segment by segment, the picker restarting at each \
            gap; times are absolute ISO-8601 UTC). ON is the first sample with cf >= --on; OFF the \
            last sample of the following run with cf >= --off (a trigger still on at the end \
            closes at the last sample). pickTime is the Maeda AIC onset re-pick in a window from 3 s \
            before to 0.5 s after ON (pickMethod "aic", with pickSNR and pickGrade), or the ON \
            time when the re-pick is rejected (pickMethod "trigger", SNR below 3 or too little data).
            Windows are given in seconds and rounded to the nearest whole number of samples. The \
            first LTA window of each segment is warm-up (cf = 0): no trigger can start there.
            """
    )

    @Argument(help: "miniSEED files to process.")
    var files: [String] = []

    // Options are read as text and validated in checkedSettings(), so that every bad value gives exit code 2
    // with a one-line reason (ArgumentParser's own typed-parsing errors exit with 64).
    @Option(help: "STA/LTA variant: recursive (Evans & Allen) or classic (box windows).")
    var method: String = "recursive"

    @Option(help: "STA window in seconds.")
    var sta: String = "0.5"

    @Option(help: "LTA window in seconds.")
    var lta: String = "10"

    @Option(help: "Trigger ON threshold (cf >= on starts a trigger).")
    var on: String = "3.5"

    @Option(help: "Trigger OFF threshold (the trigger lasts while cf >= off).")
    var off: String = "0.5"

    @Flag(help: "Subtract each segment's mean first (offline comparison mode, as the ObsPy references).")
    var demean = false

    @Option(help: "Pre-filter (causal Butterworth, order 4, applied before the CF and the re-pick): none, highpass:F, lowpass:F or bandpass:F1:F2 (Hz).")
    var filter: String = "none"

    @Option(help: "Feed the data in blocks of N samples (the output does not depend on N).")
    var chunk: String?

    @Option(name: .customLong("cf-out"),
            help: "Write the characteristic functions of FILE as FLOAT64 miniSEED to DIR/<FILE stem>.cf.mseed.")
    var cfOut: String?

    /// Validated settings (see ``checkedSettings()``).
    struct Settings {
        enum Method: String { case recursive, classic }
        var method: Method
        var staSeconds: Double
        var ltaSeconds: Double
        var onThreshold: Double
        var offThreshold: Double
        var chunkSize: Int?
        var filter: FilterSpec
        /// The onset re-picker: Maeda AIC from 3 s before to 0.5 s after the trigger ON, minimum
        /// SNR 3 (``AICRepicker/Configuration`` defaults), on the same (demeaned, filtered) samples
        /// as the CF.
        var repicker: AICRepicker
    }

    func settings() -> Result<Settings, InputError> {
        guard let method = Settings.Method(rawValue: method) else {
            return .failure(InputError("--method: '\(self.method)' is not recursive or classic"))
        }
        func number(_ text: String, _ name: String) -> Result<Double, InputError> {
            guard let v = Double(text), v.isFinite else {
                return .failure(InputError("--\(name): '\(text)' is not a finite number"))
            }
            return .success(v)
        }
        let parsed: (Double, Double, Double, Double)
        switch (number(sta, "sta"), number(lta, "lta"), number(on, "on"), number(off, "off")) {
        case let (.success(s), .success(l), .success(a), .success(b)): parsed = (s, l, a, b)
        case let (.failure(e), _, _, _), let (_, .failure(e), _, _), let (_, _, .failure(e), _), let (_, _, _, .failure(e)):
            return .failure(e)
        }
        let (staSeconds, ltaSeconds, onThreshold, offThreshold) = parsed
        guard staSeconds > 0 else { return .failure(InputError("--sta: \(sta) s must be > 0")) }
        guard ltaSeconds > 0 else { return .failure(InputError("--lta: \(lta) s must be > 0")) }
        if method == .classic, staSeconds > ltaSeconds {
            return .failure(InputError("--sta: \(sta) s is longer than --lta \(lta) s (classic STA/LTA needs sta <= lta)"))
        }
        var chunkSize: Int?
        if let chunk {
            guard let n = Int(chunk), n >= 1 else {
                return .failure(InputError("--chunk: '\(chunk)' is not a whole number >= 1"))
            }
            chunkSize = n
        }
        let filterSpec: FilterSpec
        do {
            filterSpec = try FilterSpec(parsing: filter)
        } catch {
            return .failure(InputError("--filter: \(error)"))
        }
        let repicker: AICRepicker
        do {
            repicker = try AICRepicker()
        } catch {
            return .failure(InputError("onset re-picker: \(error)"))
        }
        return .success(Settings(method: method, staSeconds: staSeconds, ltaSeconds: ltaSeconds,
                                 onThreshold: onThreshold, offThreshold: offThreshold, chunkSize: chunkSize,
                                 filter: filterSpec, repicker: repicker))
    }

    /// Checks the options; prints the one-line reason and throws exit code 2 if one is bad.
    ///
    /// Called from ``run()`` rather than ArgumentParser's `validate()`, because ArgumentParser
    /// also calls `validate()` while rendering `quakewarn --help`, and its own validation errors
    /// exit with 64, not the contract's 2.
    func checkedSettings() throws -> Settings {
        guard !files.isEmpty else { throw Self.fail(InputError("no FILE given (usage: quakewarn pick FILE…)")) }
        let settings: Settings
        switch self.settings() {
        case let .success(s): settings = s
        case let .failure(e): throw Self.fail(e)
        }
        if let cfOut {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: cfOut, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw Self.fail(InputError("--cf-out: \(cfOut) is not a directory")) }
            } else {
                do {
                    try FileManager.default.createDirectory(atPath: cfOut, withIntermediateDirectories: true)
                } catch {
                    throw Self.fail(InputError("--cf-out: cannot create directory \(cfOut): \(error.localizedDescription)"))
                }
            }
            var seen: [String: String] = [:]
            for file in files {
                let name = Self.cfFileName(for: file)
                if let other = seen[name] {
                    throw Self.fail(InputError("--cf-out: \(other) and \(file) would both write \(name)"))
                }
                seen[name] = file
            }
        }
        return settings
    }

    func run() throws {
        let settings = try checkedSettings()
        var failures = 0
        for path in files {
            do {
                if try !process(path: path, settings: settings) { failures += 1 }
            } catch {
                Self.printError("\(error)")
                failures += 1
            }
        }
        if failures > 0 {
            Self.printError("\(failures) of \(files.count) file(s) had errors")
            throw ExitCode(2)
        }
    }

    // MARK: - Processing

    /// Picks every segment of one file and prints its triggers.
    ///
    /// - Returns: false if the file had bad records (skipped, reported on stderr; the rest is
    ///   still picked), as `quakewarn info` counts them.
    /// - Throws: ``InputError`` if the file cannot be used at all.
    private func process(path: String, settings: Settings) throws(InputError) -> Bool {
        let volume: MiniSEEDVolume
        do {
            volume = try MiniSEEDReader.read(path: path)
        } catch {
            throw InputError("\(error)")
        }
        for problem in volume.problems {
            Self.printError("warning: skipped bad record: \(problem)")
        }
        guard !volume.segments.isEmpty else { throw InputError("\(path): no waveform samples") }
        var input = [Double]()
        var cf = [Double]()
        var cfBlocks: [SampleBlock] = []
        for segment in volume.segments {
            let stream = segment.streamID.description
            var detector: any STALTACharacteristicFunction
            do {
                switch settings.method {
                case .recursive:
                    detector = try RecursiveSTALTA(staSeconds: settings.staSeconds, ltaSeconds: settings.ltaSeconds,
                                                   samplingRateHz: segment.samplingRateHz)
                case .classic:
                    detector = try ClassicSTALTA(staSeconds: settings.staSeconds, ltaSeconds: settings.ltaSeconds,
                                                 samplingRateHz: segment.samplingRateHz)
                }
            } catch {
                throw InputError("\(path): \(stream): \(error)")
            }
            var trigger: TriggerOnset
            do {
                trigger = try TriggerOnset(onThreshold: settings.onThreshold, offThreshold: settings.offThreshold)
            } catch {
                throw InputError("\(path): \(error)")
            }
            var filter: ButterworthFilter?
            do {
                filter = try settings.filter.makeFilter(samplingRateHz: segment.samplingRateHz)
            } catch {
                throw InputError("\(path): \(stream): --filter \(settings.filter): \(error)")
            }
            let n = segment.samples.count
            if n <= detector.warmUpSampleCount {
                Self.printError("warning: \(path): \(stream): segment at \(segment.startTime.iso8601) has \(n) samples, "
                    + "not more than the STA/LTA warm-up of \(detector.warmUpSampleCount): no trigger possible")
            }
            input = segment.samples
            if demean, let mean = numpyCompatibleMean(input) {
                for i in input.indices { input[i] -= mean }
            }
            cf.removeAll(keepingCapacity: true)
            cf.append(contentsOf: repeatElement(0, count: n))
            let block = settings.chunkSize ?? max(n, 1)
            var triggers: [TriggerOnset.Trigger] = []
            input.withUnsafeMutableBufferPointer { inBuf in
                cf.withUnsafeMutableBufferPointer { outBuf in
                    var start = 0
                    while start < n {
                        let end = min(start + block, n)
                        let chunk = UnsafeMutableBufferPointer(rebasing: inBuf[start..<end])
                        filter?.process(inPlace: chunk)
                        detector.process(UnsafeBufferPointer(chunk),
                                         into: UnsafeMutableBufferPointer(rebasing: outBuf[start..<end]))
                        trigger.process(UnsafeBufferPointer(rebasing: UnsafeBufferPointer(outBuf)[start..<end])) { t in
                            triggers.append(t)
                        }
                        start = end
                    }
                }
            }
            if let last = trigger.finish() { triggers.append(last) }
            // Onset re-pick on the (filtered) samples once the whole segment has been processed,
            // so the AIC window never depends on the chunking.
            let filtered = SampleBlock(streamID: segment.streamID, startTime: segment.startTime,
                                       samplingRateHz: segment.samplingRateHz, unit: segment.unit, samples: input)
            for t in triggers {
                let repick = settings.repicker.repick(filtered, triggerSample: t.onSample)
                Console.output(TriggerJSON.line(stream: stream, segment: segment, trigger: t, repick: repick))
            }
            if cfOut != nil {
                cfBlocks.append(SampleBlock(streamID: segment.streamID, startTime: segment.startTime,
                                            samplingRateHz: segment.samplingRateHz, unit: .dimensionless, samples: cf))
            }
        }
        if let cfOut {
            let target = URL(fileURLWithPath: cfOut).appendingPathComponent(Self.cfFileName(for: path)).path
            do {
                try MiniSEEDWriter.write(cfBlocks, encoding: .float64, to: target)
            } catch {
                throw InputError("\(path): --cf-out: \(error)")
            }
        }
        return volume.problems.isEmpty
    }

    /// `<file name without its extension>.cf.mseed`, the name of a file's CF output.
    static func cfFileName(for path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".cf.mseed"
    }

}

/// The contract's trigger line: `{"stream","onSample","offSample","onTime","offTime","pickTime"}`,
/// followed by how the pick was made: `pickMethod` is `aic` (Maeda AIC onset re-pick, with
/// `pickSample`, `pickSNR` and `pickGrade`) or `trigger` (the re-pick was rejected, e.g. SNR below 3;
/// `pickTime` is then the ON time and `repickRejected` says why).
enum TriggerJSON {
    static func line(stream: String, segment: SampleBlock, trigger: TriggerOnset.Trigger,
                     repick: Result<RepickResult, RepickRejection>) -> String {
        let onTime = segment.time(ofSample: trigger.onSample).iso8601
        let offTime = segment.time(ofSample: trigger.offSample).iso8601
        var fields: [(String, JSONValue)] = [
            ("stream", .string(stream)),
            ("onSample", .integer(trigger.onSample)),
            ("offSample", .integer(trigger.offSample)),
            ("onTime", .string(onTime)),
            ("offTime", .string(offTime)),
        ]
        switch repick {
        case .success(let r):
            fields += [
                ("pickTime", .string(r.time.iso8601)),
                ("pickMethod", .string("aic")),
                ("pickSample", .integer(r.sampleIndex)),
                ("pickSNR", .number((r.snr * 100).rounded() / 100)),
                ("pickGrade", .string(r.grade.rawValue)),
            ]
        case .failure(let rejection):
            fields += [
                ("pickTime", .string(onTime)),
                ("pickMethod", .string("trigger")),
                ("repickRejected", .string(rejection.description)),
            ]
        }
        return JSONValue.object(fields).text
    }
}
