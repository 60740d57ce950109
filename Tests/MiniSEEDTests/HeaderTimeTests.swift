import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// Start-time rules of the fixed header (SEED 2.4 ch. 8, field 16 and activity flag bit 1),
/// with expectations checked against ObsPy 1.5.1 (obspy.read on the same modified record).
@Suite("Record start times")
struct HeaderTimeTests {
    static func firstRecord() -> [UInt8] { Array(TestData.bytes("mseed/generated/int16_be_512.mseed").prefix(512)) }

    static func setBE32(_ bytes: inout [UInt8], _ offset: Int, _ value: Int32) {
        let v = UInt32(bitPattern: value)
        for i in 0..<4 { bytes[offset + i] = UInt8((v >> (24 - 8 * UInt32(i))) & 0xFF) }
    }

    @Test func timeCorrectionIsAppliedUnlessFlaggedAsApplied() throws {
        var bytes = Self.firstRecord()
        Self.setBE32(&bytes, 40, 5000)  // +0.5 s in units of 0.0001 s
        // ObsPy: 2024-02-29T23:59:50.500000Z (ns 1709251190500000000).
        #expect(try TestData.records(bytes).first?.startTime.nanosecondsSinceEpoch == 1_709_251_190_500_000_000)
        bytes[36] = 0x02  // activity flag bit 1: correction already applied
        // ObsPy: 2024-02-29T23:59:50.000000Z.
        #expect(try TestData.records(bytes).first?.startTime.nanosecondsSinceEpoch == 1_709_251_190_000_000_000)
        var negative = Self.firstRecord()
        Self.setBE32(&negative, 40, -12345)
        #expect(try TestData.records(negative).first?.startTime == Timestamp(iso8601: "2024-02-29T23:59:48.7655Z"))
    }

    @Test func secondSixtyIsTheNextMinute() throws {
        // libmseed's ms_btime2hptime counts second 60 (a leap second) as the next minute's first second.
        var bytes = Self.firstRecord()
        bytes[26] = 60
        #expect(try TestData.records(bytes).first?.startTime == Timestamp(iso8601: "2024-03-01T00:00:00Z"))
    }

    @Test func littleEndianHeadersAreDetected() throws {
        let records = try TestData.records(TestData.bytes("mseed/generated/int32_le_256.mseed"))
        #expect(records.first?.startTime == Timestamp(iso8601: "2024-02-29T23:59:50Z"))
        #expect(records.first?.streamID.description == "XX.GEN.00.LHZ")
    }
}
