import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

@Suite("Concurrent use")
struct ConcurrencyTests {
    /// libmseed 2 has global log state; all calls go through one lock. Many parallel readers,
    /// writers and decoders must give exactly the serial results.
    @Test func parallelReadsWritesAndFailuresMatchSerialResults() async throws {
        let files = ["obspy_KONO_BHZ.mseed", "obspy_UH1_SHZ.mseed", "generated/steim1_be_512.mseed",
                     "generated/float32_be_512.mseed", "generated/multi_gaps.mseed"]
        var corrupt = TestData.bytes("mseed/generated/steim2_be_512.mseed")
        corrupt[512 + 64 + 11] ^= 1   // Steim integrity failure in record 1 (libmseed logs it)
        let corruptBytes = corrupt
        let serial = try files.map { try MiniSEEDReader.read(path: Fixtures.path("mseed/" + $0)).segments }
        let serialCorrupt = try MiniSEEDReader.read(bytes: corruptBytes, source: "c").problems

        try await withThrowingTaskGroup(of: Bool.self) { group in
            for round in 0..<40 {
                group.addTask {
                    let k = round % files.count
                    let volume = try MiniSEEDReader.read(path: Fixtures.path("mseed/" + files[k]))
                    guard volume.segments == serial[k] else { return false }
                    let problems = try MiniSEEDReader.read(bytes: corruptBytes, source: "c").problems
                    guard problems == serialCorrupt else { return false }
                    let block = TestData.block((0..<1000).map { Double(($0 * round) % 500) })
                    let encoded = try MiniSEEDWriter.encode(block, encoding: .steim2, recordLength: 512)
                    return try MiniSEEDReader.read(bytes: encoded, source: "w").segments == [block]
                }
            }
            for try await ok in group { #expect(ok) }
        }
        #expect(serialCorrupt.count == 1)
        #expect(serialCorrupt.first?.reason.contains("integrity") == true)
    }
}
