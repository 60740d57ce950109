import Foundation
import SeismicCore
import Testing

@Suite("JSON text")
struct JSONTextTests {
    @Test("quoted strings parse back to the original with Foundation's JSON parser, including every control character")
    func roundTrip() throws {
        var samples = ["", "plain", "quote \" and backslash \\", "line\nbreak\r\ttab", "乐至县 Nanta", "emoji 🌏"]
        samples.append(String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }))
        for text in samples {
            let literal = JSONText.quoted(text)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            #expect(parsed == [text], "\(literal)")
            #expect(!literal.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 })
        }
        #expect(JSONText.quoted("a\u{01}b") == "\"a\\u0001b\"")
        #expect(JSONText.quoted("\"\\") == "\"\\\"\\\\\"")
    }

    @Test("the wall clock is after 2026-01-01 and moves forward")
    func wallClock() {
        let a = Timestamp.wallClockNow()
        let b = Timestamp.wallClockNow()
        #expect(a.nanosecondsSinceEpoch > 1_767_225_600_000_000_000)
        #expect(b.nanosecondsSinceEpoch >= a.nanosecondsSinceEpoch)
    }
}
