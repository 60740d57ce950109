import ArgumentParser
import Foundation
import Magnitude
import Picking
import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn bench scale`: how many 3-channel, 100 sps stations one core processes in real time
/// through the full station pipeline (what `quakewarn bench` times per packet: Butterworth
/// filters, recursive STA/LTA picker with trigger state machine, AIC re-pick and glitch checks,
/// and the real-time station parameters Pd, τc, τp^max, PGA, PGV).
///
/// N simulated stations each get one 1-second packet per channel per data second, all on this
/// thread, for `--seconds` of data after 12 s of untimed warm-up (the 10 s LTA settles). The data
/// are drawn from a pre-generated 300 s pool of 3-channel noise with one P/S event (the same
/// synthetic station as `quakewarn bench`), each station at its own offset into the pool, so at
/// any time about 10 % of the stations are between a P arrival and 30 s after it (a heavy load:
/// triggers, re-picks and parameter windows all the time). Generating the random data is not
/// part of the measurement; the per-station state (filters, pickers, buffers) is the memory
/// that grows with N.
///
/// Reported: the CPU time of this thread per data second (CPU share of one core; thread CPU time
/// is used because the wall clock of a shared machine includes other processes), the wall time,
/// the per-station cost, the resulting maximum station count for one core (N / share, a linear
/// extrapolation), and the resident memory held by the stations' state.
struct BenchScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "How many 3-channel 100 sps stations one core processes in real time (CPU share).",
        discussion: """
            Simulates --stations stations (seeded noise and P/S events, 10 % of stations in an \
            event at any time) and runs one 1 s packet per channel per data second for --seconds \
            of data on one thread, after 12 s of warm-up. Exit status 1 when the CPU share exceeds \
            100 % (not real-time), 2 on bad options. Build in release mode: swift build -c release.
            """
    )

    @Option(help: "Number of simulated 3-channel stations (1...100000).")
    var stations: Int = 16_000

    @Option(help: "Seconds of data to time after the warm-up (1...3600).")
    var seconds: Int = 20

    @Option(help: "Output format: text or json (one JSON object).")
    var format: String = "text"

    static let rate = 100.0
    static let poolSeconds = 300
    static let warmUpSeconds = 12

    func run() throws {
        guard (1...100_000).contains(stations) else {
            Console.error("quakewarn bench scale: --stations \(stations) must be in 1...100000")
            throw ExitCode(2)
        }
        guard (1...3600).contains(seconds) else {
            Console.error("quakewarn bench scale: --seconds \(seconds) must be in 1...3600")
            throw ExitCode(2)
        }
        guard format == "text" || format == "json" else {
            Console.error("quakewarn bench scale: --format \(format) must be text or json")
            throw ExitCode(2)
        }
        let result: ScaleResult
        do {
            result = try Self.measure(stations: stations, seconds: seconds)
        } catch {
            Console.error("quakewarn bench scale: \(error)")
            throw ExitCode(2)
        }
        if format == "json" {
            Console.output(JSONValue.object([
                ("stations", .integer(stations)),
                ("dataSeconds", .integer(seconds)),
                ("cpuSecondsPerDataSecond", .number(result.cpuPerDataSecond)),
                ("cpuSharePercent", .number(BenchCommand.round2(100 * result.cpuPerDataSecond))),
                ("wallSecondsPerDataSecond", .number(result.wallPerDataSecond)),
                ("microsecondsPerStationSecond", .number(BenchCommand.round2(result.microsecondsPerStationSecond))),
                ("maxStationsOneCore", .integer(result.maxStations)),
                ("stateBytesPerStation", result.stateBytesPerStation.map { .integer($0) } ?? .null),
                ("picks", .integer(result.picks)),
                ("realTime", .bool(result.cpuPerDataSecond <= 1)),
            ]).text)
        } else {
            var lines = [
                "stations:                 \(stations) x 3 channels x 100 sps, \(seconds) s of data (after \(Self.warmUpSeconds) s warm-up)",
                "CPU per data second:      \(fmt(result.cpuPerDataSecond * 1000)) ms (\(fmt(100 * result.cpuPerDataSecond)) % of one core)",
                "wall per data second:     \(fmt(result.wallPerDataSecond * 1000)) ms",
                "per station-second:       \(fmt(result.microsecondsPerStationSecond)) us (3 packets)",
                "max stations, one core:   \(result.maxStations) (linear extrapolation of this run)",
                "picks during the run:     \(result.picks)",
            ]
            if let bytes = result.stateBytesPerStation {
                lines.append("memory per station:       \(bytes / 1024) KiB (\(fmt(Double(bytes * stations) / 1_048_576)) MiB for all)")
            }
            lines.append(result.cpuPerDataSecond <= 1 ? "verdict:                  real time" : "verdict:                  NOT real time")
            Console.output(lines.joined(separator: "\n"))
        }
        if result.cpuPerDataSecond > 1 { throw ExitCode(1) }
    }

    private func fmt(_ x: Double) -> String { String(BenchCommand.round2(x)) }

    struct ScaleResult {
        var cpuPerDataSecond: Double
        var wallPerDataSecond: Double
        var microsecondsPerStationSecond: Double
        var maxStations: Int
        var stateBytesPerStation: Int?
        var picks: Int
    }

    /// One station's state: 3 pickers and 3 station-parameter processors.
    struct StationState {
        var pickers: [GlitchRejectingPicker]
        var processors: [RealTimeStationProcessor]
        var channels: [StreamID]
        var offset: Int
    }

    static func measure(stations n: Int, seconds: Int) throws -> ScaleResult {
        // The data pool: poolSeconds × 3 channels × 100 samples (noise + one event).
        var source = SyntheticStation(seed: 3)
        let pool: [[[Double]]] = (0..<poolSeconds).map { _ in source.nextPacket() }
        let startTime = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        let heapBefore = heapInUse()
        var all: [StationState] = []
        all.reserveCapacity(n)
        let parameterConfiguration = StationParameterConfiguration(samplingRateHz: rate)
        for s in 0..<n {
            let code = "S\(s)"
            let channels = ["HNZ", "HNN", "HNE"].map { StreamID(network: "XX", station: code, location: "00", channel: $0) }
            all.append(StationState(
                pickers: try channels.map { try GlitchRejectingPicker(streamID: $0, samplingRateHz: rate) },
                processors: try channels.map { _ in
                    try RealTimeStationProcessor(configuration: parameterConfiguration, startTime: startTime)
                },
                channels: channels,
                offset: (s &* 7919) % poolSeconds))
        }
        var picks = 0
        var time = startTime
        func step(_ second: Int) throws {
            for s in 0..<n {
                let packet = pool[(all[s].offset + second) % poolSeconds]
                for c in 0..<3 {
                    let block = SampleBlock(streamID: all[s].channels[c], startTime: time, samplingRateHz: rate,
                                            samples: packet[c])
                    for output in all[s].pickers[c].process(block) {
                        if case .pick(let pick) = output {
                            picks += 1
                            try? all[s].processors[c].pick(at: pick.time)
                        }
                    }
                    try all[s].processors[c].process(block) { _ in }
                }
            }
            time = time.adding(nanoseconds: 1_000_000_000)
        }
        for second in 0..<warmUpSeconds { try step(second) }
        let heapAfter = heapInUse()
        picks = 0
        let cpuStart = threadCPUSeconds()
        let wallStart = ContinuousClock.now
        for second in warmUpSeconds..<(warmUpSeconds + seconds) { try step(second) }
        let wall = BenchCommand.elapsedMicroseconds(since: wallStart) / 1e6
        let cpu = threadCPUSeconds() - cpuStart
        let perDataSecond = cpu / Double(seconds)
        let perStation = perDataSecond / Double(n) * 1e6
        var stateBytes: Int?
        if let before = heapBefore, let after = heapAfter, after > before {
            stateBytes = (after - before) / n
        }
        return ScaleResult(cpuPerDataSecond: perDataSecond, wallPerDataSecond: wall / Double(seconds),
                           microsecondsPerStationSecond: perStation,
                           maxStations: perStation > 0 ? Int(1e6 / perStation) : 0,
                           stateBytesPerStation: stateBytes, picks: picks)
    }

    /// CPU time consumed by this thread, s.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Resident memory of this process (Linux `/proc/self/statm`), bytes; nil where unavailable.
    static func heapInUse() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
