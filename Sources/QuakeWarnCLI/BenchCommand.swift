import ArgumentParser
import Magnitude
import MiniSEED
import Picking
import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn bench`: checks the per-packet latency budget of design.md on this machine.
///
/// Each stage runs on synthetic but realistic input (3 channels of 100 sps accelerometer noise
/// with an event-like P/S burst every 120 s, so trigger decisions and station-parameter windows
/// are part of the measured packets), in this process, one packet at a time, timed with the
/// monotonic clock. The table gives p50/p99/max per packet and a verdict against the budget;
/// the exit status is 1 when a stage's p99 is over budget (2 on bad options).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure each pipeline stage per packet against the latency budget (p99).",
        discussion: """
            Stages and budgets (design.md, "Latency budget", p99 per packet on a 2-core machine):
              miniSEED record decode                              20 us  (one 512-byte Steim2 record)
              filters + picker + station parameters, 3 channels  100 us  (1 s of 100 sps per channel;
                  reported separately for noise packets and for packets from P to P+30 s)
              event build + warning encode + sign                200 us  (the triggering snapshot through
                  EventBuilder -> WarningIssuer -> canonical JSON -> Ed25519; rows for the first
                  onsite alert and for the two-station update, which runs the grid-search locator)
              forwarder: verify + outbox append                   500 us  (a signed warning through the relay's
                  Ed25519 check and SQLite WAL commit; the MQTT publish is measured against a real
                  broker by 'quakewarn relay bench' and end to end by Benchmarks/scripts/e2e-latency.sh)
            'quakewarn bench scale' measures how many stations one core processes in real time.
            Build in release mode for meaningful numbers: swift build -c release.
            """,
        subcommands: [BenchScaleCommand.self, BenchEndToEndReport.self, BenchPipelineCommand.self]
    )

    @Option(help: "Packets (seconds of 3-channel data) to time per stage, after 60 s of warm-up.")
    var packets: Int = 3000

    @Flag(help: "Print one JSON object per stage and line instead of the table.")
    var json = false

    @Option(help: ArgumentHelp(
        "Clock of the event-stage rows: wall (monotonic) or thread-cpu.",
        discussion: "thread-cpu times the event stage by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): it leaves out the time the thread waited for a core, for before/after comparisons on a shared machine; the budget verdict is meant for wall time on an idle machine."))
    var eventClock: BenchClock = .wall

    struct StageResult {
        var name: String
        var budgetMicroseconds: Double
        var samples: [Double]  // microseconds per packet

        func percentile(_ p: Double) -> Double {
            let sorted = samples.sorted()
            guard !sorted.isEmpty else { return .nan }
            let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(rank, 0), sorted.count - 1)]
        }

        var p99: Double { percentile(99) }
        var withinBudget: Bool { p99 <= budgetMicroseconds }
    }

    func run() throws {
        guard packets >= 100, packets <= 10_000_000 else {
            Console.error("quakewarn bench: --packets \(packets) must be in 100...10000000")
            throw ExitCode(2)
        }
        var results: [StageResult] = []
        do {
            results.append(try Self.decodeStage(packets: packets))
            results += try Self.stationStage(packets: packets)
            results += try Self.eventStage(packets: packets, clock: eventClock)
            results.append(try Self.forwarderStage(packets: min(packets, 5_000)))
        } catch {
            Console.error("quakewarn bench: \(error)")
            throw ExitCode(2)
        }
        report(results)
        if results.contains(where: { !$0.withinBudget }) { throw ExitCode(1) }
    }

    private func report(_ results: [StageResult]) {
        if json {
            for r in results {
                Console.output(JSONValue.object([
                    ("stage", .string(r.name)),
                    ("budgetMicroseconds", .number(r.budgetMicroseconds)),
                    ("packets", .integer(r.samples.count)),
                    ("p50Microseconds", .number(Self.round2(r.percentile(50)))),
                    ("p99Microseconds", .number(Self.round2(r.p99))),
                    ("maxMicroseconds", .number(Self.round2(r.percentile(100)))),
                    ("withinBudget", .bool(r.withinBudget)),
                ]).text)
            }
            return
        }
        var table = TextTable(headers: ["STAGE", "BUDGET_US", "P50_US", "P99_US", "MAX_US", "VERDICT"],
                              rightAligned: [1, 2, 3, 4])
        for r in results {
            table.append([r.name, Self.format(r.budgetMicroseconds), Self.format(r.percentile(50)), Self.format(r.p99),
                          Self.format(r.percentile(100)), r.withinBudget ? "ok" : "OVER BUDGET"])
        }
        Console.output(table.rendered)
    }

    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    static func format(_ x: Double) -> String { String(round2(x)) }

    // MARK: - Stages

    /// A clock for timing one stage input (see `--event-clock`).
    enum BenchClock: String, ExpressibleByArgument, CaseIterable {
        case wall
        case threadCPU = "thread-cpu"

        /// Now on this clock, ns (CLOCK_MONOTONIC or CLOCK_THREAD_CPUTIME_ID).
        func nanoseconds() -> Int64 {
            var ts = timespec()
            clock_gettime(self == .wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }

        func elapsedMicroseconds(since start: Int64) -> Double { Double(nanoseconds() - start) / 1000 }
    }

    static func elapsedMicroseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }

    /// One 512-byte Steim2 record (100 samples of noise) through the long-lived incremental decoder.
    static func decodeStage(packets: Int) throws -> StageResult {
        var signal = SyntheticStation(seed: 1)
        let block = SampleBlock(streamID: signal.channels[0], startTime: signal.time, samplingRateHz: 100,
                                samples: signal.nextPacket()[0].map { $0.rounded() })
        let bytes = try MiniSEEDWriter.encode(block, encoding: .steim2, recordLength: 512)
        let record = Array(bytes.prefix(512))
        var decoder = MiniSEEDRecordDecoder(source: "bench", maximumRecordLength: 512)
        var samples: [Double] = []
        samples.reserveCapacity(packets)
        for i in 0..<(packets + 100) {
            let start = ContinuousClock.now
            decoder.append(record)
            let decoded = try decoder.next()
            let us = elapsedMicroseconds(since: start)
            guard decoded != nil else { throw BenchError("decoder returned no record for a whole record") }
            if i >= 100 { samples.append(us) }
        }
        return StageResult(name: "miniSEED record decode", budgetMicroseconds: 20, samples: samples)
    }

    /// Filters + picker (GlitchRejectingPicker: Butterworth 1-20 Hz, recursive STA/LTA, trigger
    /// state machine, AIC re-pick, glitch checks) + real-time station parameters (Pd, tau_c,
    /// tau_p^max, PGA, PGV) on 3 channels, per 1-second packet.
    ///
    /// Two rows: packets of background noise, and packets from the P arrival to 30 s after it
    /// (triggers, AIC re-picks, glitch checks and station-parameter windows happen there; the
    /// packet that produces a warning is one of these).
    static func stationStage(packets: Int) throws -> [StageResult] {
        var signal = SyntheticStation(seed: 2)
        let rate = 100.0
        var pickers = try signal.channels.map { try GlitchRejectingPicker(streamID: $0, samplingRateHz: rate) }
        let parameterConfiguration = StationParameterConfiguration(samplingRateHz: rate)
        var processors = try signal.channels.map { _ in
            try RealTimeStationProcessor(configuration: parameterConfiguration, startTime: signal.time)
        }
        var noise: [Double] = []
        var event: [Double] = []
        noise.reserveCapacity(packets)
        var picks = 0
        for i in 0..<(packets + 60) {
            let time = signal.time
            let inEvent = signal.isInEvent
            let data = signal.nextPacket()
            let blocks = signal.channels.indices.map { c in
                SampleBlock(streamID: signal.channels[c], startTime: time, samplingRateHz: rate, samples: data[c])
            }
            let start = ContinuousClock.now
            for c in blocks.indices {
                for output in pickers[c].process(blocks[c]) {
                    if case .pick(let pick) = output {
                        picks += 1
                        try? processors[c].pick(at: pick.time)
                    }
                }
                try processors[c].process(blocks[c]) { _ in }
            }
            let us = elapsedMicroseconds(since: start)
            if i >= 60 {
                if inEvent { event.append(us) } else { noise.append(us) }
            }
        }
        guard picks > 0, !event.isEmpty else {
            throw BenchError("the synthetic events produced no pick: the stage was not exercised (use more --packets)")
        }
        let name = "filters + picker + station parameters, 3 channels"
        return [StageResult(name: name + " (noise)", budgetMicroseconds: 100, samples: noise),
                StageResult(name: name + " (event: P to P+30 s)", budgetMicroseconds: 100, samples: event)]
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Three channels (HNZ, HNN, HNE) of 100 sps accelerometer counts: Gaussian noise (RMS 1000
/// counts) plus, every 300 s, a P burst (6 Hz, 20x noise, decaying over 4 s) followed 5 s later
/// by a larger S burst (3 Hz, 60x noise), so the picker decides triggers and windows open.
struct SyntheticStation {
    let channels = ["HNZ", "HNN", "HNE"].map { StreamID(network: "SC", station: "BENCH", location: "00", channel: $0) }
    var time = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
    private var rng: SplitMix64
    private var sampleIndex = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Whether the next packet lies within 30 s after an event's P arrival.
    var isInEvent: Bool { sampleIndex % 30_000 >= 27_000 }

    mutating func nextPacket() -> [[Double]] {
        var out = [[Double]](repeating: [Double](repeating: 0, count: 100), count: 3)
        for k in 0..<100 {
            let t = Double((sampleIndex + k) % 30_000) / 100 - 270  // event at 270 s of every 300 s
            var p = 0.0, s = 0.0
            if t >= 0 { p = 20_000 * exp(-t / 4) * sin(2 * Double.pi * 6 * t) }
            if t >= 5 { s = 60_000 * exp(-(t - 5) / 6) * sin(2 * Double.pi * 3 * (t - 5)) }
            out[0][k] = 1000 * rng.nextStandardNormal() + p + 0.3 * s
            out[1][k] = 1000 * rng.nextStandardNormal() + 0.4 * p + s
            out[2][k] = 1000 * rng.nextStandardNormal() + 0.3 * p + 0.8 * s
        }
        sampleIndex += 100
        time = time.adding(nanoseconds: 1_000_000_000)
        return out
    }
}
