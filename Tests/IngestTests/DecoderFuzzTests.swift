import Foundation
import Ingest
import MiniSEED
import SeedLink
import SeismicCore
import Testing
import TestSupport

/// Randomised robustness test of the two decoders that see network bytes first:
/// ``SeedLinkFrameDecoder`` and ``MiniSEEDRecordDecoder``.
///
/// Inputs are SeedLink packet streams built from real 512-byte records (the scenario files and
/// the generated fixtures: STEIM1/2, INT16, FLOAT32, TEXT), mutated by bit flips, random bytes,
/// header-field extremes, truncation, insertion, deletion and splicing, plus plain random bytes;
/// each is fed in random chunk sizes, every returned packet goes on to the record decoder, and
/// the mutated record bytes are also fed to a record decoder directly. The test passes when
/// nothing traps and the byte accounting of both decoders stays exact.
///
/// Count: `QW_FUZZ_INPUTS` (default 10,000 here; `scripts/fuzz.sh` runs 1,000,000 and more in
/// a release build), seed `QW_FUZZ_SEED` (default 1).
@Suite struct DecoderFuzzTests {
    static func corpus() throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var files = ["longquan-m5.8/SC.NANTA.00.mseed", "noise-glitches/SC.GAOSI.00.mseed"].map {
            root.appendingPathComponent("SampleWaveforms/scenarios/" + $0).path
        }
        files += ["steim1_be_512", "steim2_be_512", "int16_be_512", "float32_be_512", "text_512"].map {
            Fixtures.path("mseed/generated/\($0).mseed")
        }
        for f in files {
            let data = try #require(FileManager.default.contents(atPath: f))
            let bytes = Array(data)
            var i = 0
            while i + 512 <= bytes.count, records.count < 400 {
                records.append(Array(bytes[i..<(i + 512)]))
                i += 512
            }
        }
        return records
    }

    static func packet(_ record: [UInt8], sequence: Int) -> [UInt8] {
        let hex = String(sequence & 0xFF_FFFF, radix: 16, uppercase: true)
        return Array(("SL" + String(repeating: "0", count: 6 - hex.count) + hex).utf8) + record
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            guard !b.isEmpty else { break }
            switch rng.next() % 10 {
            case 0, 1:  // bit flips
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] ^= UInt8(1 << (rng.next() % 8))
                }
            case 2:  // random bytes
                for _ in 0..<(1 + Int(rng.next() % 16)) {
                    b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 3:  // header fields of a record at a packet boundary: extremes
                let base = (Int(rng.next() % UInt64(max(1, b.count / 520))) * 520 + 8)
                let fields = [20, 22, 24, 25, 26, 28, 30, 32, 34, 39, 44, 46, 48, 50, 52, 54, 55]
                let f = base + fields[Int(rng.next() % UInt64(fields.count))]
                if f + 1 < b.count {
                    let values: [(UInt8, UInt8)] = [(0xFF, 0xFF), (0, 0), (0x80, 0), (0x7F, 0xFF), (0x01, 0xFF), (0x02, 0x00)]
                    let v = values[Int(rng.next() % UInt64(values.count))]
                    b[f] = v.0
                    b[f + 1] = v.1
                }
            case 4:  // truncate
                b.removeLast(Int(rng.next() % UInt64(b.count)))
            case 5:  // cut a piece out of the middle (connection drop inside a packet)
                let i = Int(rng.next() % UInt64(b.count))
                let n = min(b.count - i, 1 + Int(rng.next() % 600))
                b.removeSubrange(i..<(i + n))
            case 6:  // insert random bytes
                let i = Int(rng.next() % UInt64(b.count + 1))
                b.insert(contentsOf: (0..<(1 + Int(rng.next() % 40))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
            case 7:  // insert protocol tokens
                let tokens = ["SL", "SLINFO *", "SLINFO  ", "ERROR\r\n", "END", "SL00000", "SLFFFFFF"]
                let i = Int(rng.next() % UInt64(b.count + 1))
                b.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: i)
            case 8:  // duplicate a span
                let i = Int(rng.next() % UInt64(b.count))
                let n = min(b.count - i, 1 + Int(rng.next() % 520))
                b.insert(contentsOf: b[i..<(i + n)], at: Int(rng.next() % UInt64(b.count + 1)))
            default:  // steim frame words: random
                let i = Int(rng.next() % UInt64(b.count))
                for k in i..<min(b.count, i + 64) where rng.next() % 3 == 0 { b[k] = UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return b
    }

    struct Tally {
        var inputs = 0, frames = 0, records = 0, recordErrors = 0, skipped = 0
    }

    /// Runs `count` inputs; returns what came out.
    static func run(count: Int, seed: UInt64) throws -> Tally {
        let corpus = try corpus()
        var rng = SplitMix64(seed: seed)
        var tally = Tally()
        while tally.inputs < count {
            // 1–4 packets of real records (random sequence numbers), or random bytes.
            var stream: [UInt8] = []
            if rng.next() % 16 == 0 {
                stream = (0..<Int(rng.next() % 1500)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    stream += packet(corpus[Int(rng.next() % UInt64(corpus.count))], sequence: Int(rng.next() % 0x100_0000))
                }
                stream = mutate(stream, &rng)
            }
            var frames = SeedLinkFrameDecoder()
            var i = 0
            var appended = 0
            while i < stream.count {
                let n = 1 + Int(rng.next() % UInt64(rng.next() % 4 == 0 ? 8 : 700))
                let chunk = stream[i..<min(stream.count, i + n)]
                frames.append(chunk)
                appended += chunk.count
                i += n
                while let f = frames.next() {
                    tally.frames += 1
                    switch f {
                    case .packet(_, let record):
                        var d = MiniSEEDRecordDecoder(source: "fuzz", maximumRecordLength: 512)
                        d.append(record)
                        drain(&d, &tally)
                    case .skipped: tally.skipped += 1
                    default: break
                    }
                }
                guard frames.consumedByteCount + frames.bufferedByteCount == appended else {
                    throw FuzzFailure(message: "frame decoder lost bytes (seed \(seed), input \(tally.inputs))")
                }
            }
            // The same bytes without packet headers, straight into a record decoder.
            var direct = MiniSEEDRecordDecoder(source: "fuzz")
            var j = 0
            while j < stream.count {
                let n = 1 + Int(rng.next() % 1100)
                direct.append(stream[j..<min(stream.count, j + n)])
                j += n
                drain(&direct, &tally)
            }
            guard direct.consumedByteCount + direct.bufferedByteCount == stream.count else {
                throw FuzzFailure(message: "record decoder lost bytes (seed \(seed), input \(tally.inputs))")
            }
            tally.inputs += 1
        }
        return tally
    }

    static func drain(_ d: inout MiniSEEDRecordDecoder, _ tally: inout Tally) {
        var guardCount = 0
        while guardCount < 10_000 {
            guardCount += 1
            do {
                guard let r = try d.next() else { return }
                tally.records += 1
                // What the daemon does next: the input guard, then the block's times if accepted
                // (a record may have rate 0 when it has no samples; the guard must filter it).
                var g = InputGuard()
                let decision = g.check(startTime: r.startTime, sampleCount: r.sampleCount, samplingRateHz: r.samplingRateHz)
                if decision.kind.isAccepted { _ = r.block.endTimeExclusive }
            } catch {
                tally.recordErrors += 1
            }
        }
    }

    struct FuzzFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    @Test func unmutatedPacketsDecodeExactly() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count > 100)
        var frames = SeedLinkFrameDecoder()
        for (k, r) in corpus.enumerated() { frames.append(Self.packet(r, sequence: k)) }
        var n = 0
        while let f = frames.next() {
            guard case .packet(let seq, let record) = f else {
                Issue.record("unexpected frame \(f)")
                continue
            }
            #expect(seq == n && record == corpus[n])
            var d = MiniSEEDRecordDecoder(maximumRecordLength: 512)
            d.append(record)
            #expect(try d.next() != nil)
            n += 1
        }
        #expect(n == corpus.count)
    }

    @Test func randomisedInputsNeverTrap() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["QW_FUZZ_INPUTS"].flatMap(Int.init) ?? 10_000
        let seed = env["QW_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
        let start = ContinuousClock.now
        let t = try Self.run(count: count, seed: seed)
        let elapsed = ContinuousClock.now - start
        // Written to stderr so scripts/fuzz.sh can report it.
        FileHandle.standardError.write(Data("fuzz: \(t.inputs) inputs (seed \(seed)) in \(elapsed): \(t.frames) frames, \(t.records) records decoded, \(t.recordErrors) record errors, \(t.skipped) skips, 0 crashes\n".utf8))
        #expect(t.inputs == count)
        // The mutations must exercise both paths: good records and rejected ones.
        #expect(t.records > count / 10)
        #expect(t.recordErrors > 0 && t.skipped > 0)
    }
}
