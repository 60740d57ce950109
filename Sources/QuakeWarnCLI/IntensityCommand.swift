// `quakewarn intensity`: GB/T 17742-2020 instrumental intensity of 3-component accelerograms
// (design.md, interface contract).
import ArgumentParser
import GroundMotion
import MiniSEED
import SeismicCore

/// `quakewarn intensity FILE… [--gain COUNTS_PER_M_S2] [--allow-incomplete]`
///
/// Output: one JSON object per station on stdout, in station order,
/// `{"station","pgaMetersPerSecondSquared","pgvMetersPerSecond","intensityFromPGA",
/// "intensityFromPGV","intensity","components":[{"stream","pgaMetersPerSecondSquared",
/// "pgvMetersPerSecond"}]}`. Exit 0 on success; 2 on bad input with one line per problem on
/// stderr naming the file, station or option (stations that could be computed are still printed).
struct IntensityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intensity",
        abstract: "GB/T 17742-2020 instrumental intensity (PGA, PGV, I_A, I_V, I) per station.",
        discussion: """
            Streams of all FILEs are grouped into stations by NET.STA.LOC and the first two \
            letters of the channel (band and instrument code, e.g. BE.MEMA..HN for HN0/HN1/HN2 or \
            HNE/HNN/HNZ). Each station needs exactly three components, each one continuous \
            segment at the same sampling rate; they are aligned on their common time span \
            (start offsets rounded to whole samples).
            Units: --gain divides every sample by COUNTS_PER_M_S2 (counts per m/s^2). Without \
            --gain, streams stored as floating point (FLOAT32/FLOAT64) are taken as m/s^2 already; \
            streams stored as integers (INT16/INT32/STEIM1/STEIM2) are raw counts and are refused.
            Method (offline, whole record): demean, 5 % cosine taper, zero-pad, FFT; zero-phase \
            0.1-10 Hz band-pass (4th-order Butterworth magnitude on each side); velocity by \
            spectral integration; vector PGA (m/s^2) and PGV (m/s) over the three components; \
            I_A = 3.17 lg PGA + 6.59, I_V = 3.00 lg PGV + 9.77; I = I_V if I_A >= 6.0 and \
            I_V >= 6.0, else (I_A + I_V)/2; clipped to [1.0, 12.0] and rounded to one decimal. \
            intensityFromPGA/intensityFromPGV are unrounded and unclipped (null for a zero record).
            --allow-incomplete computes stations with one or two components from what is there \
            (the vector PGA/PGV are then lower bounds) and warns on stderr; without it they are \
            errors.
            """
    )

    @Argument(help: "miniSEED files with acceleration records.")
    var files: [String] = []

    // Read as text and validated in run(), so a bad value gives the contract's exit code 2.
    @Option(help: ArgumentHelp("Digitizer gain in counts per m/s^2 (e.g. 855107.7 for 1.16944e-6 m/s^2 per count).",
                               valueName: "COUNTS_PER_M_S2"))
    var gain: String?

    @Flag(name: .customLong("allow-incomplete"),
          help: "Compute stations with only one or two components (lower bounds), with a warning.")
    var allowIncomplete = false

    func run() throws {
        guard !files.isEmpty else { throw Self.fail("no FILE given (usage: quakewarn intensity FILE…)") }
        var countsPerUnit: Double?
        if let gain {
            guard let value = Double(gain), value.isFinite, value > 0 else {
                throw Self.fail("--gain: '\(gain)' is not a positive finite number of counts per m/s^2")
            }
            countsPerUnit = value
        }
        var failures = 0
        var streams: [StationStream] = []
        for path in files {
            let volume: MiniSEEDVolume
            do {
                volume = try MiniSEEDReader.read(path: path)
            } catch {
                Self.printError("\(error)")
                failures += 1
                continue
            }
            for problem in volume.problems {
                Self.printError("warning: skipped bad record: \(problem)")
            }
            if volume.segments.isEmpty {
                Self.printError("\(path): no waveform samples")
                failures += 1
            }
            for segment in volume.segments {
                let encodings = volume.encodings[segment.streamID] ?? []
                streams.append(StationStream(file: path, segment: segment, encodings: encodings))
            }
        }
        var calculator = InstrumentalIntensityCalculator()
        for (station, members) in StationStream.grouped(streams) {
            do {
                let blocks = try Self.prepare(station: station, members: members, countsPerUnit: countsPerUnit,
                                              allowIncomplete: allowIncomplete)
                let result = try calculator.compute(blocks: blocks)
                Console.output(Self.line(station: station, result: result))
            } catch let error as InputError {
                Self.printError(error.message)
                failures += 1
            } catch {
                Self.printError("\(station): \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(2) }
    }

    // MARK: - Grouping and unit conversion

    /// One continuous segment and where it came from.
    struct StationStream {
        var file: String
        var segment: SampleBlock
        var encodings: Set<MiniSEEDEncoding>

        /// `NET.STA.LOC.` + band and instrument code (the channel without its component letter).
        var stationKey: String {
            let id = segment.streamID
            let prefix = id.channel.count >= 2 ? String(id.channel.dropLast()) : id.channel
            return "\(id.network).\(id.station).\(id.location).\(prefix)"
        }

        static func grouped(_ streams: [StationStream]) -> [(String, [StationStream])] {
            var groups: [String: [StationStream]] = [:]
            for stream in streams { groups[stream.stationKey, default: []].append(stream) }
            return groups.keys.sorted().map { key in
                (key, (groups[key] ?? []).sorted { $0.segment.streamID.description < $1.segment.streamID.description })
            }
        }
    }

    /// Checks one station's streams and returns them aligned and in m/s².
    static func prepare(station: String, members: [StationStream], countsPerUnit: Double?,
                        allowIncomplete: Bool) throws(InputError) -> [SampleBlock] {
        // One continuous segment per stream.
        var byStream: [String: [StationStream]] = [:]
        for member in members { byStream[member.segment.streamID.description, default: []].append(member) }
        for (stream, parts) in byStream.sorted(by: { $0.key < $1.key }) where parts.count > 1 {
            let files = Set(parts.map(\.file)).sorted().joined(separator: ", ")
            throw InputError("\(station): \(stream) has \(parts.count) segments (gaps, overlaps or repeated "
                + "files: \(files)); intensity needs one continuous record per component")
        }
        let names = members.map(\.segment.streamID.channel).joined(separator: ",")
        if members.count > 3 {
            throw InputError("\(station): \(members.count) components (\(names)); expected 3")
        }
        if members.count < 3 {
            guard allowIncomplete else {
                throw InputError("\(station): \(members.count) component(s) (\(names)); expected 3 "
                    + "(--allow-incomplete computes a lower bound from fewer)")
            }
            printError("warning: \(station): only \(members.count) component(s) (\(names)); PGA/PGV/intensity are lower bounds")
        }
        guard let first = members.first else { throw InputError("\(station): no components") }
        let rate = first.segment.samplingRateHz
        for member in members where member.segment.samplingRateHz != rate {
            throw InputError("\(station): \(member.segment.streamID) at \(member.segment.samplingRateHz) Hz, "
                + "\(first.segment.streamID) at \(rate) Hz; components must share one sampling rate")
        }
        // Common time span; start offsets rounded to whole samples.
        let latestStart = members.map(\.segment.startTime.nanosecondsSinceEpoch).max() ?? 0
        var offsets: [Int] = []
        var length = Int.max
        for member in members {
            let lagNanoseconds = Double(latestStart - member.segment.startTime.nanosecondsSinceEpoch)
            let offset = Int((lagNanoseconds * rate / 1e9).rounded())
            offsets.append(offset)
            length = min(length, member.segment.samples.count - offset)
        }
        guard length >= 2 else {
            throw InputError("\(station): the components do not overlap in time (common span \(max(length, 0)) samples)")
        }
        var blocks: [SampleBlock] = []
        for (member, offset) in zip(members, offsets) {
            var block = member.segment
            let isFloat = !member.encodings.isEmpty && member.encodings.allSatisfy { $0 == .float32 || $0 == .float64 }
            let divisor: Double
            if let countsPerUnit {
                divisor = countsPerUnit
            } else if isFloat {
                divisor = 1
            } else {
                let stored = member.encodings.map(\.description).sorted().joined(separator: "/")
                throw InputError("\(member.file): \(block.streamID) holds integer counts (\(stored)); "
                    + "pass --gain COUNTS_PER_M_S2")
            }
            block.samples = block.samples[offset..<(offset + length)].map { $0 / divisor }
            block.startTime = member.segment.time(ofSample: offset)
            block.unit = .metersPerSecondSquared
            blocks.append(block)
        }
        // Align the start times exactly (they agree to within half a sample by construction).
        let start = blocks[0].startTime
        for index in blocks.indices { blocks[index].startTime = start }
        return blocks
    }

    // MARK: - Output

    /// The contract's station line.
    static func line(station: String, result: InstrumentalIntensity) -> String {
        let components: [JSONValue] = result.components.map { component in
            .object([
                ("stream", .string(component.streamID?.description ?? "")),
                ("pgaMetersPerSecondSquared", .number(component.pgaMetersPerSecondSquared)),
                ("pgvMetersPerSecond", .number(component.pgvMetersPerSecond)),
            ])
        }
        return JSONValue.object([
            ("station", .string(station)),
            ("pgaMetersPerSecondSquared", .number(result.pgaMetersPerSecondSquared)),
            ("pgvMetersPerSecond", .number(result.pgvMetersPerSecond)),
            ("intensityFromPGA", .number(result.intensityFromPGA)),
            ("intensityFromPGV", .number(result.intensityFromPGV)),
            ("intensity", .number(result.intensity)),
            ("components", .array(components)),
        ]).text
    }

}

