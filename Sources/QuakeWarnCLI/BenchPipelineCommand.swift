import Alerting
import ArgumentParser
import Foundation
import MiniSEED
import Pipeline
import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn bench pipeline`: the CPU cost of `ReplayPipeline.process` per record, as the live
/// ingest daemon calls it (`process(_:issued:emitDeferringCAP:)`, stall timeout 10 s, CAP
/// rendering left to the caller), on recorded scenario files cut into 1 s records.
///
/// Every record is timed by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so time spent waiting
/// for a core on a shared machine is left out) or the monotonic clock (`--clock wall`). Rows:
/// - every record;
/// - records that issue at least one warning: the whole call, and the cost until the first
///   warning is issued (`issued` callback: the daemon signs and sends it from there);
/// - every warning: the cost from the start of its record's call until it is issued (the
///   "processor start → issued" segment of the end-to-end harness, without the waits);
/// - cold: the process's first warning (first repetition), which pays the one-time costs of the
///   process (lazy symbol binding, type metadata, first-touch page faults) unless `--warm-up`
///   calls `ReplayPipeline.warmUp()` first. Run with `--repeat 1` in several processes to
///   collect it.
///
/// **Cold caches.** In the daemon a warning is rare and other processes (feed, broker, relay) run
/// between records, so code and data are cold when a record arrives. `--evict-kib N` (default
/// 4096: twice the L2 of the reference machine) writes and reads an N KiB buffer between records,
/// untimed, to evict the caches as those processes would; `--evict-kib 0` measures warm caches.
///
/// The scenarios are replayed `--repeat` times, each time through a fresh pipeline; a digest of
/// every output (picks, events, decisions, warnings with their CAP XML) is printed, so two builds
/// can be checked to give the same outputs in the same run that times them.
struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "CPU time of ReplayPipeline.process per record and per warning, on scenario files.",
        discussion: """
            PATH: miniSEED files or directories (default: the three event scenarios of \
            SampleWaveforms/scenarios). Records of --record-seconds (default 1, as the live feed's \
            packets) go through ReplayPipeline.process(_:issued:emitDeferringCAP:) as in the \
            ingest daemon; each record is timed. --evict-kib (default 4096) sweeps a buffer between \
            records to make the caches cold (0: warm). Build in release mode: swift build -c release.
            """
    )

    @Argument(help: "miniSEED files or directories (default: the three event scenarios).")
    var paths: [String] = []

    @Option(help: "Configuration file (default: SampleWaveforms/scenarios/config.yaml).")
    var config: String = "SampleWaveforms/scenarios/config.yaml"

    @Option(help: "Replays of the input, each through a fresh pipeline (1...1000).")
    var `repeat`: Int = 10

    @Option(help: "Record length in seconds (the pipeline re-cuts them into 0.25 s slices).")
    var recordSeconds: Double = 1

    @Option(help: "KiB of memory swept between records to evict the caches (0: warm caches).")
    var evictKib: Int = 4096

    @Flag(help: "Call ReplayPipeline.warmUp() on each new pipeline (untimed) before its first record.")
    var warmUp = false

    @Flag(help: "Run a PipelineKeepWarm pass (untimed) after each cache sweep, before the record, as the daemon's keep-warm does between packets.")
    var keepWarm = false

    @Option(help: "Clock: thread-cpu (default) or wall.")
    var clock: BenchCommand.BenchClock = .threadCPU

    @Option(help: ArgumentHelp(
        "Write the CLOCK_MONOTONIC interval (ns) of every timed record that issued a warning to FILE.",
        discussion: "One line 'start end' per record, to select the samples of a 'perf record -k CLOCK_MONOTONIC' run (Benchmarks/scripts/profile-warning-records.sh)."))
    var intervalsOut: String?

    @Option(help: "Output format: text (a table) or json (one JSON object per row).")
    var format: String = "text"

    static let defaultPaths = ["SampleWaveforms/scenarios/nearby-m4.5", "SampleWaveforms/scenarios/longquan-m5.8",
                               "SampleWaveforms/scenarios/longmenshan-m7.5"]

    func run() throws {
        guard (1...1000).contains(self.repeat) else {
            Console.error("quakewarn bench pipeline: --repeat \(self.repeat) must be in 1...1000")
            throw ExitCode(2)
        }
        guard recordSeconds.isFinite, recordSeconds > 0, recordSeconds <= 60 else {
            Console.error("quakewarn bench pipeline: --record-seconds \(recordSeconds) must be in (0, 60]")
            throw ExitCode(2)
        }
        guard format == "text" || format == "json" else {
            Console.error("quakewarn bench pipeline: --format \(format) must be text or json")
            throw ExitCode(2)
        }
        guard (0...1_048_576).contains(evictKib) else {
            Console.error("quakewarn bench pipeline: --evict-kib \(evictKib) must be in 0...1048576")
            throw ExitCode(2)
        }
        let quakeWarn: QuakeWarnConfiguration
        var sets: [[SampleBlock]] = []
        do {
            quakeWarn = try QuakeWarnConfiguration.load(path: config)
            for path in paths.isEmpty ? Self.defaultPaths : paths {
                var segments: [SampleBlock] = []
                for file in try MiniSEEDFileList.expand([path], recursive: true) {
                    segments += try MiniSEEDReader.read(path: file).segments
                }
                sets.append(ReplaySchedule.blocks(from: segments, chunkSeconds: recordSeconds))
            }
        } catch {
            Console.error("quakewarn bench pipeline: \(error)")
            throw ExitCode(2)
        }
        let result = Self.measure(sets: sets, quakeWarn: quakeWarn, repetitions: self.repeat,
                                  evictBytes: evictKib * 1024, clock: clock, warmUp: warmUp, keepWarm: keepWarm)
        if let intervalsOut {
            let text = result.intervals.map { "\($0.start) \($0.end)\n" }.joined()
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: intervalsOut))
            } catch {
                Console.error("quakewarn bench pipeline: --intervals-out \(intervalsOut): \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        report(result)
    }

    struct Measurement {
        var records: [Double] = []           // µs per record
        var warningRecords: [Double] = []    // µs per record that issued ≥ 1 warning
        var toFirstWarning: [Double] = []    // µs from the record's start to its first warning
        var perWarning: [Double] = []        // µs from the record's start to each warning
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        var warnings = 0
        var recordCount = 0
        /// The process's first warning (first repetition, untimed otherwise): record start to issued, µs.
        var coldFirstWarning: [Double] = []
        /// µs per keep-warm pass (`--keep-warm`; after the sweep, so from cold caches).
        var keepWarmPasses: [Double] = []
        /// CLOCK_MONOTONIC start and end (ns) of the timed records that issued a warning.
        var intervals: [(start: Int64, end: Int64)] = []
    }

    static func measure(sets: [[SampleBlock]], quakeWarn: QuakeWarnConfiguration, repetitions: Int,
                        evictBytes: Int, clock: BenchCommand.BenchClock, warmUp: Bool = false,
                        keepWarm: Bool = false) -> Measurement {
        var m = Measurement()
        var sweep = [UInt64](repeating: 0, count: max(evictBytes / 8, 1))
        var sink: UInt64 = 0
        for rep in 0..<repetitions {
            for blocks in sets {
                var pipeline = ReplayPipeline(.init(quakeWarn: quakeWarn, stallTimeoutSeconds: 10))
                if warmUp {
                    let summary = pipeline.warmUp()
                    if rep == 0, blocks == sets.first { Console.error("warm-up: \(summary)") }
                }
                var keeper = keepWarm ? PipelineKeepWarm(configuration: pipeline) : nil
                var outputs = ReplayOutputs()
                var released: [PipelineRecord] = []
                var caps: [PendingCAP] = []
                for block in blocks {
                    if evictBytes > 0 {
                        sweep.withUnsafeMutableBufferPointer { b in
                            for i in stride(from: 0, to: b.count, by: 8) { b[i] &+= 1; sink &+= b[i] }
                        }
                    }
                    if keeper != nil {
                        let start = clock.nanoseconds()
                        keeper?.run(eventStageOf: pipeline)
                        if rep > 0 || repetitions == 1 { m.keepWarmPasses.append(Double(clock.nanoseconds() - start) / 1000) }
                    }
                    var issuedAt: [Int64] = []
                    released.removeAll(keepingCapacity: true)
                    caps.removeAll(keepingCapacity: true)
                    let wallStart = BenchCommand.BenchClock.wall.nanoseconds()
                    let start = clock.nanoseconds()
                    pipeline.process(block, issued: { _ in issuedAt.append(clock.nanoseconds()) },
                                     emitDeferringCAP: { r, cap in
                        released.append(r)
                        if let cap { caps.append(cap) }
                    })
                    let end = clock.nanoseconds()
                    let wallEnd = BenchCommand.BenchClock.wall.nanoseconds()
                    // The first repetition warms up (first-use costs: pickers, FFT plans, tables).
                    if rep > 0 || repetitions == 1 {
                        m.recordCount += 1
                        m.records.append(Double(end - start) / 1000)
                        if let first = issuedAt.first {
                            m.warningRecords.append(Double(end - start) / 1000)
                            m.toFirstWarning.append(Double(first - start) / 1000)
                            for t in issuedAt { m.perWarning.append(Double(t - start) / 1000) }
                            m.warnings += issuedAt.count
                            m.intervals.append((wallStart, wallEnd))
                        }
                    }
                    if rep == 0, m.coldFirstWarning.isEmpty, let first = issuedAt.first {
                        m.coldFirstWarning.append(Double(first - start) / 1000)
                    }
                    if rep == 0 { digest(released, caps: caps, into: &m.digest, outputs: &outputs) }
                }
                if rep == 0 { digest(pipeline.finish(), caps: [], into: &m.digest, outputs: &outputs) }
            }
        }
        if sink == 42 { Console.error("") }  // keeps the sweep
        return m
    }

    /// FNV-1a over the replay output lines of the records (and the CAP XML of the warnings).
    static func digest(_ records: [PipelineRecord], caps: [PendingCAP], into h: inout UInt64,
                       outputs: inout ReplayOutputs) {
        func mix(_ s: String) {
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0x0a) &* 0x100_0000_01b3
        }
        var nextCAP = 0
        for r in records {
            var record = r
            if case .warning(let message, let xml) = r, xml.isEmpty, nextCAP < caps.count {
                record = .warning(message, capXML: caps[nextCAP].render())
                nextCAP += 1
            }
            let before = (outputs.picks.count, outputs.events.count, outputs.decisions.count, outputs.warnings.count,
                          outputs.cap.count, outputs.notices.count)
            do { try outputs.add(record) } catch { mix("error: \(error)") }
            outputs.picks.dropFirst(before.0).forEach(mix)
            outputs.events.dropFirst(before.1).forEach(mix)
            outputs.decisions.dropFirst(before.2).forEach(mix)
            outputs.warnings.dropFirst(before.3).forEach(mix)
            outputs.cap.dropFirst(before.4).forEach { mix($0.name); mix($0.xml) }
            outputs.notices.dropFirst(before.5).forEach(mix)
        }
    }

    private func report(_ m: Measurement) {
        func pct(_ a: [Double], _ p: Double) -> Double {
            BenchCommand.StageResult(name: "", budgetMicroseconds: 0, samples: a).percentile(p)
        }
        let rows: [(String, [Double])] = [
            ("every record", m.records),
            ("records issuing a warning: whole call", m.warningRecords),
            ("records issuing a warning: to the first warning", m.toFirstWarning),
            ("every warning: record start to issued", m.perWarning),
            ("cold: the process's first warning, record start to issued", m.coldFirstWarning),
        ] + (keepWarm ? [("keep-warm pass before each record (not in the rows above)", m.keepWarmPasses)] : [])
        let unit = clock == .threadCPU ? "thread CPU" : "wall"
        if format == "json" {
            for (name, a) in rows {
                Console.output(JSONValue.object([
                    ("row", .string(name)), ("clock", .string(clock.rawValue)), ("count", .integer(a.count)),
                    ("p50Microseconds", .number(BenchCommand.round2(pct(a, 50)))),
                    ("p90Microseconds", .number(BenchCommand.round2(pct(a, 90)))),
                    ("p99Microseconds", .number(BenchCommand.round2(pct(a, 99)))),
                    ("maxMicroseconds", .number(BenchCommand.round2(pct(a, 100)))),
                    ("meanMicroseconds", .number(BenchCommand.round2(a.isEmpty ? .nan : a.reduce(0, +) / Double(a.count)))),
                    ("evictKiB", .integer(evictKib)),
                    ("outputDigest", .string(String(m.digest, radix: 16))),
                ]).text)
            }
            return
        }
        var table = TextTable(headers: ["ROW (\(unit), µs)", "N", "P50", "P90", "P99", "MAX", "MEAN"],
                              rightAligned: [1, 2, 3, 4, 5, 6])
        for (name, a) in rows {
            table.append([name, String(a.count), BenchCommand.format(pct(a, 50)), BenchCommand.format(pct(a, 90)),
                          BenchCommand.format(pct(a, 99)), BenchCommand.format(pct(a, 100)),
                          BenchCommand.format(a.isEmpty ? .nan : a.reduce(0, +) / Double(a.count))])
        }
        Console.output(table.rendered)
        Console.output("repetitions \(self.repeat)\(self.repeat > 1 ? " (the first is warm-up, not timed)" : ""), \(m.recordCount) timed records, "
                       + "\(m.warnings) timed warnings, cache sweep \(evictKib) KiB between records; "
                       + "output digest \(String(m.digest, radix: 16))")
    }
}
