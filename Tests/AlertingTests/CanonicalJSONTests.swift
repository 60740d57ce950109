// The direct canonical-JSON writer against its definition, Foundation's JSONEncoder with sorted
// keys and unescaped slashes, on seeded random messages.
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import Alerting

@Suite("Canonical JSON writer")
struct CanonicalJSONTests {
    /// Doubles of every shape the encoder formats differently: integers (".0" dropped), plain
    /// decimals, tiny and huge magnitudes (exponent forms), negatives and signed zero.
    static func double(_ rng: inout SplitMix64) -> Double {
        switch Int(rng.nextUniform() * 8) {
        case 0: return Double(Int(rng.nextUniform() * 2000) - 1000)
        case 1: return (rng.nextUniform() * 100 * 10).rounded() / 10
        case 2: return rng.nextStandardNormal() * 1e-7
        case 3: return rng.nextStandardNormal() * 1e17
        case 4: return -0.0
        case 5: return 1e16 * (1 + (rng.nextUniform() * 4).rounded())
        case 6: return 30 + rng.nextUniform()
        default: return rng.nextStandardNormal() * 300
        }
    }

    /// Names with quotes, backslashes, slashes, non-ASCII letters and emoji.
    static func name(_ rng: inout SplitMix64) -> String {
        let pieces = ["Lezhi", " ", "\"", "\\", "/", "乐至县", "é", "😀", "school", "<&>", "'", "0", "-"]
        return (0..<Int(1 + rng.nextUniform() * 6)).map { _ in pieces[Int(rng.nextUniform() * Double(pieces.count))] }
            .joined()
    }

    static func time(_ rng: inout SplitMix64) -> Timestamp {
        // 1900…2100, with whole-microsecond and sub-microsecond instants.
        let seconds = Int64(-2_208_988_800 + rng.nextUniform() * 6_311_433_600)
        let fraction = rng.nextUniform() < 0.5 ? Int64(rng.nextUniform() * 1e6) * 1000 : Int64(rng.nextUniform() * 1e9)
        return Timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000 + fraction)
    }

    static func message(_ rng: inout SplitMix64) -> WarningMessage {
        let targets = (0..<Int(rng.nextUniform() * 4)).map { _ in
            TargetPrediction(name: name(&rng), kind: TargetKind.allCases[Int(rng.nextUniform() * 7)],
                             epicentralDistanceKilometers: double(&rng), predictedIntensity: double(&rng),
                             predictedIntensitySigma: double(&rng), sWaveArrivalTime: time(&rng),
                             countdownSeconds: double(&rng), warningLevel: WarningLevel.allCases[Int(rng.nextUniform() * 5)])
        }
        return WarningMessage(
            id: "qw-\(Int(rng.nextUniform() * 1e6))", updateNumber: Int(rng.nextUniform() * 12),
            status: WarningStatus.allCases[Int(rng.nextUniform() * 3)],
            msgType: WarningMessageType.allCases[Int(rng.nextUniform() * 3)], originTime: time(&rng),
            epicenter: GeoPoint(latitudeDegrees: double(&rng), longitudeDegrees: double(&rng)),
            depthKilometers: double(&rng), magnitude: double(&rng), magnitudeUncertainty: double(&rng),
            magnitudeType: rng.nextUniform() < 0.5 ? "Mpd" : name(&rng), numberOfStations: Int(rng.nextUniform() * 5),
            targets: targets, createdTime: time(&rng), sentTime: rng.nextUniform() < 0.5 ? time(&rng) : nil)
    }

    @Test("2000 seeded random messages: byte-identical to JSONEncoder([.sortedKeys, .withoutEscapingSlashes])")
    func matchesJSONEncoder() throws {
        var rng = SplitMix64(seed: 1729)
        for trial in 0..<2000 {
            let m = Self.message(&rng)
            let fast = try m.canonicalJSON()
            let reference = try m.encodedWithJSONEncoder()
            #expect(fast == reference, "trial \(trial): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
            #expect(try CanonicalJSONWriter.encode(m) != nil)
        }
    }

    @Test("control characters take the encoder's path, with the same bytes; the extreme instants are exact")
    func edgeCases() throws {
        var rng = SplitMix64(seed: 7)
        var m = Self.message(&rng)
        m.createdTime = Timestamp(nanosecondsSinceEpoch: .min)  // 1677
        m.originTime = Timestamp(nanosecondsSinceEpoch: .max)  // 2262
        #expect(try m.canonicalJSON() == m.encodedWithJSONEncoder())
        m.magnitudeType = "M\npd\t\u{1}"
        #expect(try CanonicalJSONWriter.encode(m) == nil)
        #expect(try m.canonicalJSON() == m.encodedWithJSONEncoder())
    }

    @Test("a non-finite number throws, as the encoder does")
    func nonFiniteThrows() throws {
        var rng = SplitMix64(seed: 8)
        var m = Self.message(&rng)
        m.magnitude = .nan
        #expect(throws: EncodingError.self) { try m.canonicalJSON() }
        #expect(throws: EncodingError.self) { try m.encodedWithJSONEncoder() }
    }
}
