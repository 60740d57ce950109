import TestSupport
import Testing
import SeismicCore

@Suite("Timestamp")
struct TimestampTests {
    @Test("Known instants convert to the POSIX nanosecond count")
    func knownInstants() throws {
        // 2005-08-31T02:33:49.850Z: `date -u -d 2005-08-31T02:33:49Z +%s` = 1125455629.
        let t = try #require(Timestamp(year: 2005, month: 8, day: 31, hour: 2, minute: 33, second: 49,
                                       nanosecond: 850_000_000))
        #expect(t.nanosecondsSinceEpoch == 1_125_455_629_850_000_000)
        #expect(Timestamp(year: 1970, month: 1, day: 1)?.nanosecondsSinceEpoch == 0)
        // 2000-02-29 is a leap day (divisible by 400): 951782400 s.
        #expect(Timestamp(year: 2000, month: 2, day: 29)?.nanosecondsSinceEpoch == 951_782_400_000_000_000)
        #expect(Timestamp(year: 1900, month: 2, day: 29) == nil)  // 1900 is not a leap year.
        // Before the epoch: 1969-12-31T23:59:59.5Z.
        #expect(Timestamp(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59,
                          nanosecond: 500_000_000)?.nanosecondsSinceEpoch == -500_000_000)
    }

    @Test("ISO-8601 formatting uses microseconds, or nanoseconds when needed")
    func formatting() {
        #expect(Timestamp(nanosecondsSinceEpoch: 1_125_455_629_850_000_000).iso8601 == "2005-08-31T02:33:49.850000Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1).iso8601 == "1970-01-01T00:00:00.000000001Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -500_000_000).iso8601 == "1969-12-31T23:59:59.500000Z")
    }

    @Test("ISO-8601 parsing round-trips and rejects malformed text")
    func parsing() throws {
        let samples: [Int64] = [0, 1, -1, 1_125_455_629_850_000_000, 4_102_444_799_999_999_999, -2_208_988_800_000_000_000]
        for ns in samples {
            let t = Timestamp(nanosecondsSinceEpoch: ns)
            #expect(Timestamp(iso8601: t.iso8601) == t, "round trip of \(t.iso8601)")
        }
        #expect(Timestamp(iso8601: "2005-08-31T02:33:49")?.nanosecondsSinceEpoch == 1_125_455_629_000_000_000)
        #expect(Timestamp(iso8601: "2005-08-31T02:33:49.85Z")?.nanosecondsSinceEpoch == 1_125_455_629_850_000_000)
        for bad in ["", "2005-13-01T00:00:00Z", "2005-02-30T00:00:00Z", "2005-08-31T24:00:00Z", "2005-08-31",
                    "2005-08-31T02:33:49.Z", "2005-08-31T02:33:49.1234567890Z", "2005-08-31T02:33:4xZ",
                    "2005-08-31T02:33:49+08:00"] {
            #expect(Timestamp(iso8601: bad) == nil, "should reject \(bad)")
        }
    }

    @Test("Day-of-year construction matches the calendar")
    func dayOfYear() {
        #expect(Timestamp(year: 2005, dayOfYear: 243, hour: 2, minute: 33, second: 49, nanosecond: 850_000_000)
            == Timestamp(year: 2005, month: 8, day: 31, hour: 2, minute: 33, second: 49, nanosecond: 850_000_000))
        #expect(Timestamp(year: 2004, dayOfYear: 366, hour: 0, minute: 0, second: 0, nanosecond: 0)
            == Timestamp(year: 2004, month: 12, day: 31))
        #expect(Timestamp(year: 2005, dayOfYear: 366, hour: 0, minute: 0, second: 0, nanosecond: 0) == nil)
        #expect(Timestamp(year: 2005, dayOfYear: 0, hour: 0, minute: 0, second: 0, nanosecond: 0) == nil)
    }

    @Test("Every day from 1900 to 2100 round-trips through civil fields")
    func calendarSweep() throws {
        var t = try #require(Timestamp(year: 1900, month: 1, day: 1))
        let end = try #require(Timestamp(year: 2100, month: 12, day: 31))
        var expected = (year: 1900, month: 1, day: 1)
        while t <= end {
            let c = t.components
            #expect(c.year == expected.year && c.month == expected.month && c.day == expected.day)
            if c.year != expected.year || c.month != expected.month || c.day != expected.day { break }
            t = t.adding(nanoseconds: 86_400_000_000_000)
            let leap = (expected.year % 4 == 0 && expected.year % 100 != 0) || expected.year % 400 == 0
            let monthLengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            expected.day += 1
            if expected.day > monthLengths[expected.month - 1] {
                expected.day = 1
                expected.month += 1
                if expected.month > 12 { expected.month = 1; expected.year += 1 }
            }
        }
    }

    @Test("Microsecond conversion is exact and rounds to nearest")
    func microseconds() {
        #expect(Timestamp(microsecondsSinceEpoch: 1_125_455_629_850_000)?.nanosecondsSinceEpoch == 1_125_455_629_850_000_000)
        #expect(Timestamp(microsecondsSinceEpoch: Int64.max) == nil)
        #expect(Timestamp(nanosecondsSinceEpoch: 1_499).microsecondsSinceEpoch == 1)
        #expect(Timestamp(nanosecondsSinceEpoch: 1_500).microsecondsSinceEpoch == 2)
        #expect(Timestamp(nanosecondsSinceEpoch: -1_500).microsecondsSinceEpoch == -2)
    }
}

@Suite("StreamID and SampleBlock")
struct StreamAndBlockTests {
    @Test("Stream ids parse NET.STA.LOC.CHA with an empty location")
    func streamID() throws {
        let id = try #require(StreamID("BW.RJOB..EHZ"))
        #expect(id.network == "BW" && id.station == "RJOB" && id.location == "" && id.channel == "EHZ")
        #expect(id.description == "BW.RJOB..EHZ")
        #expect(id.component == "Z")
        #expect(StreamID("SC.NANTA.00.HNE")?.location == "00")
        for bad in ["", "BW.RJOB.EHZ", "BW.RJOB..EHZ.X", ".RJOB..EHZ", "BW...EHZ", "BW.RJOB.."] {
            #expect(StreamID(bad) == nil, "should reject \(bad)")
        }
    }

    @Test("A corrupt sampling rate (0, NaN, infinite, tiny) saturates sample offsets instead of trapping")
    func offsetsSaturate() {
        #expect(SampleBlock.offsetNanoseconds(samples: 5, samplingRateHz: 0) == .max)
        #expect(SampleBlock.offsetNanoseconds(samples: -5, samplingRateHz: 0) == .min)
        #expect(SampleBlock.offsetNanoseconds(samples: 0, samplingRateHz: 0) == 0)
        #expect(SampleBlock.offsetNanoseconds(samples: 3, samplingRateHz: .nan) == 0)
        #expect(SampleBlock.offsetNanoseconds(samples: 3, samplingRateHz: .infinity) == 0)
        #expect(SampleBlock.offsetNanoseconds(samples: 1_000_000, samplingRateHz: 1e-12) == .max)
        #expect(SampleBlock.offsetNanoseconds(samples: 250, samplingRateHz: 100) == 2_500_000_000)
    }

    @Test("Sample times are exact integer nanoseconds at common rates")
    func sampleTimes() throws {
        let id = try #require(StreamID("XX.TEST..HNZ"))
        let start = Timestamp(nanosecondsSinceEpoch: 1_000_000_000_000_000_000)
        for (rate, interval) in [(100.0, Int64(10_000_000)), (200.0, 5_000_000), (40.0, 25_000_000), (1.0, 1_000_000_000)] {
            let block = SampleBlock(streamID: id, startTime: start, samplingRateHz: rate,
                                    samples: Array(repeating: 0, count: 1000))
            #expect(block.time(ofSample: 999).nanoseconds(since: start) == 999 * interval)
            #expect(block.endTimeExclusive.nanoseconds(since: start) == 1000 * interval)
        }
        // A long run at 100 sps: 30 days of samples land on exact 10 ms multiples.
        let day30 = SampleBlock.offsetNanoseconds(samples: 259_200_000, samplingRateHz: 100)
        #expect(day30 == 2_592_000_000_000_000)
        #expect(SampleBlock.sampleCount(seconds: 0.5, samplingRateHz: 200) == 100)
        #expect(SampleBlock.sampleCount(seconds: 0.025, samplingRateHz: 100) == 3)  // 2.5 rounds away from zero
    }
}

@Suite("SplitMix64")
struct SplitMix64Tests {
    @Test("Matches the reference sequence for seed 0 and draws sane deviates")
    func referenceSequence() {
        // First outputs of Vigna's splitmix64.c for x = 0.
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(g.next() == 0x06C4_5D18_8009_454F)
        var h = SplitMix64(seed: 42)
        var sum = 0.0, sumSquares = 0.0
        let n = 200_000
        for _ in 0..<n {
            let x = h.nextStandardNormal()
            sum += x
            sumSquares += x * x
        }
        let mean = sum / Double(n)
        #expect(abs(mean) < 0.01)                          // 4.5 standard errors
        #expect(abs(sumSquares / Double(n) - mean * mean - 1) < 0.015)
    }
}
