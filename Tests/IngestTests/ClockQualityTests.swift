import Foundation
import Ingest
import Testing
import TestSupport

@Suite struct ClockQualityTests {
    func firstRecord(_ name: String, length: Int) throws -> [UInt8] {
        let data = try #require(FileManager.default.contents(atPath: Fixtures.path("mseed/" + name)))
        return Array(data.prefix(length))
    }

    /// STAU: big-endian, Blockette 1001 first at byte 48 (then 100, 1000), all flags 0 (ObsPy data).
    @Test func readsFlagsAndTimingQualityFromARealRecord() throws {
        var bytes = try firstRecord("obspy_STAU_20031119_Z.mseed", length: 512)
        let plain = try #require(ClockQuality(record: bytes))
        #expect(plain == ClockQuality(activityFlags: 0, ioClockFlags: 0, dataQualityFlags: 0, timingQualityPercent: 0))
        bytes[36] = 0x02  // time correction applied
        bytes[37] = 0x20  // clock locked
        bytes[38] = 0x80  // time tag questionable
        bytes[48 + 4] = 87  // Blockette 1001 timing quality
        let flagged = try #require(ClockQuality(record: bytes))
        #expect(flagged.timeCorrectionApplied && flagged.clockLocked && flagged.timeTagQuestionable)
        #expect(flagged.timingQualityPercent == 87)
    }

    @Test func recordWithoutBlockette1001HasNoTimingQuality() throws {
        let bytes = try firstRecord("generated/steim2_be_512.mseed", length: 512)
        let q = try #require(ClockQuality(record: bytes))
        #expect(q.timingQualityPercent == nil)
        #expect(!q.clockLocked)
    }

    @Test func littleEndianChainIsFollowed() throws {
        // Byte-swap the STAU header fields the parser reads (year, first-blockette offset, blockette types/next).
        var b = try firstRecord("obspy_STAU_20031119_Z.mseed", length: 512)
        func swap(_ o: Int) { b.swapAt(o, o + 1) }
        swap(20); swap(46)
        var offset = 48
        for _ in 0..<3 {
            let next = Int(b[offset + 2]) << 8 | Int(b[offset + 3])
            swap(offset); swap(offset + 2)
            if next == 0 { break }
            offset = next
        }
        b[48 + 4] = 55
        #expect(ClockQuality(record: b)?.timingQualityPercent == 55)
    }

    @Test func garbageNeverTraps() {
        #expect(ClockQuality(record: Array(repeating: 0, count: 47)) == nil)
        var rng = SplitMix(seed: 99)
        for n in [48, 49, 56, 100, 512] {
            for _ in 0..<2000 {
                let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                _ = ClockQuality(record: bytes)
            }
        }
        // A blockette chain that loops on itself terminates.
        var loop = [UInt8](repeating: 0, count: 64)
        loop[20] = 0x07; loop[21] = 0xD3  // 2003
        loop[47] = 48
        loop[48] = 0x03; loop[49] = 0xE8  // 1000
        loop[51] = 48  // next = itself
        #expect(ClockQuality(record: loop)?.timingQualityPercent == nil)
    }
}
