import SeedLink
import SeismicCore
import Testing

@Suite struct CommandTests {
    @Test func parsesEveryCommand() throws {
        #expect(try SeedLinkCommand.parse("HELLO\r") == .hello)
        #expect(try SeedLinkCommand.parse("hello\r\n") == .hello)
        #expect(try SeedLinkCommand.parse("BYE") == .bye)
        #expect(try SeedLinkCommand.parse("CAT") == .cat)
        #expect(try SeedLinkCommand.parse("END\r") == .end)
        #expect(try SeedLinkCommand.parse("STATION  NANTA XX\r") == .station(station: "NANTA", network: "XX"))
        #expect(try SeedLinkCommand.parse("station anmo") == .station(station: "ANMO", network: nil))
        #expect(try SeedLinkCommand.parse("SELECT ??HNZ") == .select(try SeedLinkSelector("??HNZ")))
        #expect(try SeedLinkCommand.parse("SELECT") == .select(nil))
        #expect(try SeedLinkCommand.parse("DATA") == .data(sequence: nil, begin: nil))
        #expect(try SeedLinkCommand.parse("DATA 00002A") == .data(sequence: 42, begin: nil))
        // ObsPy sends Python's hex() digits in lower case.
        #expect(try SeedLinkCommand.parse("DATA 2a") == .data(sequence: 42, begin: nil))
        let t = try #require(Timestamp(year: 2008, month: 10, day: 1, hour: 12, minute: 30, second: 35))
        #expect(try SeedLinkCommand.parse("DATA 00002A 2008,10,01,12,30,35") == .data(sequence: 42, begin: t))
        #expect(try SeedLinkCommand.parse("FETCH 0000FF") == .fetch(sequence: 255, begin: nil))
        // ObsPy's format_seedlink() does not zero-pad.
        #expect(try SeedLinkCommand.parse("TIME 2008,10,1,12,30,35") == .time(begin: t, end: nil))
        let e = t.adding(nanoseconds: 60_000_000_000)
        #expect(try SeedLinkCommand.parse("TIME 2008,10,1,12,30,35 2008,10,1,12,31,35") == .time(begin: t, end: e))
        #expect(try SeedLinkCommand.parse("INFO id") == .info(level: "ID"))
        #expect(try SeedLinkCommand.parse("INFO STREAMS") == .info(level: "STREAMS"))
    }

    @Test func encodesAndRoundTrips() throws {
        let t = try #require(Timestamp(year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5))
        let commands: [SeedLinkCommand] = [
            .hello, .bye, .cat, .end, .station(station: "NANTA", network: "XX"), .station(station: "GAOSI", network: nil),
            .select(try SeedLinkSelector("00HN?.D")), .select(try SeedLinkSelector("!HNE")), .select(nil),
            .data(sequence: nil, begin: nil), .data(sequence: 0xABCDEF, begin: t), .fetch(sequence: 1, begin: nil),
            .time(begin: t, end: t.adding(nanoseconds: 3_600_000_000_000)), .info(level: "STATIONS"),
        ]
        for c in commands {
            #expect(c.line.hasSuffix("\r"))
            #expect(try SeedLinkCommand.parse(c.line) == c, "\(c.description)")
        }
        #expect(SeedLinkCommand.data(sequence: 42, begin: t).line == "DATA 00002A 2024,01,02,03,04,05\r")
        #expect(SeedLinkCommand.hex(0x1000000 + 5) == "000005")  // 24-bit wrap
    }

    @Test(arguments: [
        "", "   ", "HELLO X", "STATION", "STATION TOOLONG", "STATION A B C", "SELECT A B", "SELECT HN", "SELECT *HNZ",
        "SELECT HNZ.X", "DATA 1234567", "DATA xyz", "DATA 1 2", "DATA 1 2024,13,01,00,00,00", "TIME", "TIME 2024,01",
        "TIME 2024,02,30,00,00,00", "TIME a,b,c,d,e,f", "INFO", "BATCH", "SLPROTO 4.0", "\u{0}\u{1}\u{2}", "DATA -1",
        "TIME 99999999999999999999,1,1",
    ])
    func rejectsBadLinesWithoutTrapping(_ line: String) {
        #expect(throws: SeedLinkError.self) { try SeedLinkCommand.parse(line) }
    }

    @Test func parsesTimes() throws {
        #expect(try SeedLinkTime.parse("2024,01,02,03,04,05.25") == Timestamp(year: 2024, month: 1, day: 2, hour: 3, minute: 4,
                                                                               second: 5, nanosecond: 250_000_000))
        #expect(try SeedLinkTime.parse("2024,1,2") == Timestamp(year: 2024, month: 1, day: 2))
        let t = try #require(Timestamp(year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 58, nanosecond: 900_000_000))
        #expect(SeedLinkTime.format(t) == "1999,12,31,23,59,58")
    }
}

@Suite struct SelectorTests {
    let hnz = StreamID(network: "XX", station: "NANTA", location: "00", channel: "HNZ")
    let hne = StreamID(network: "XX", station: "NANTA", location: "00", channel: "HNE")
    let bhzBlank = StreamID(network: "XX", station: "NANTA", location: "", channel: "BHZ")

    @Test func wildcardsOnLocationAndChannel() throws {
        #expect(try SeedLinkSelector("??HNZ").matches(hnz))
        #expect(try !SeedLinkSelector("??HNZ").matches(hne))
        #expect(try SeedLinkSelector("HN?").matches(hnz))
        #expect(try SeedLinkSelector("HN?").matches(hne))
        #expect(try !SeedLinkSelector("HN?").matches(bhzBlank))
        #expect(try SeedLinkSelector("00HN?.D").matches(hne))
        #expect(try !SeedLinkSelector("10HN?").matches(hne))
        #expect(try !SeedLinkSelector("HNZ.E").matches(hnz))
        #expect(try SeedLinkSelector("--BHZ").matches(bhzBlank))
        #expect(try SeedLinkSelector("  BHZ").matches(bhzBlank))
        #expect(try SeedLinkSelector("??BHZ").matches(bhzBlank))
        #expect(try !SeedLinkSelector("00BHZ").matches(bhzBlank))
        #expect(try SeedLinkSelector("hn?").matches(hnz))
    }

    @Test func listsWithNegation() throws {
        let list = [try SeedLinkSelector("HN?"), try SeedLinkSelector("!HNE")]
        #expect(SeedLinkSelector.selects(list, hnz))
        #expect(!SeedLinkSelector.selects(list, hne))
        #expect(!SeedLinkSelector.selects(list, bhzBlank))
        #expect(SeedLinkSelector.selects([], bhzBlank))
        #expect(SeedLinkSelector.selects([try SeedLinkSelector("!HNE")], bhzBlank))
        #expect(try SeedLinkSelector("!00HN?.D").description == "!00HN?.D")
        #expect(try SeedLinkSelector("--BHZ").description == "--BHZ")
    }
}
