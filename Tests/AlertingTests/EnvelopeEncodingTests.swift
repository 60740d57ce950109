// SignedEnvelope.encoded()'s direct writer against its definition, Foundation's JSONEncoder with
// sorted keys and unescaped slashes.
import Crypto
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import Alerting

@Suite("Signed envelope encoding")
struct EnvelopeEncodingTests {
    @Test("500 envelopes of seeded random warnings, signed with fresh keys: byte-identical to JSONEncoder, and they verify")
    func matchesJSONEncoder() throws {
        var rng = SplitMix64(seed: 4242)
        for trial in 0..<500 {
            let key = Curve25519.Signing.PrivateKey()
            let m = CanonicalJSONTests.message(&rng)
            let envelope = try SignedEnvelope.sign(m, with: key)
            let fast = try envelope.encoded()
            let reference = try envelope.encodedWithJSONEncoder()
            #expect(fast == reference, "trial \(trial): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
            #expect(CanonicalJSONWriter.encode(envelope) != nil)
            let verified = try SignedEnvelope.verify(fast, publicKey: key.publicKey)
            #expect(try WarningMessage.decode(json: verified.payload) == m)
        }
    }

    @Test("fields with quotes, backslashes, slashes, non-ASCII and control characters: the encoder's bytes")
    func oddFields() throws {
        var rng = SplitMix64(seed: 77)
        for trial in 0..<300 {
            func field() -> String {
                let pieces = ["a", "\"", "\\", "/", "+", "=", "乐至", "😀", "\n", "\u{1}", "\t", " "]
                return (0..<Int(rng.nextUniform() * 6)).map { _ in pieces[Int(rng.nextUniform() * Double(pieces.count))] }.joined()
            }
            let e = SignedEnvelope(format: field(), keyId: field(), payloadType: field(), payload: field(), signature: field())
            let fast = try e.encoded()
            let reference = try e.encodedWithJSONEncoder()
            #expect(fast == reference, "trial \(trial): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
            let hasControl = [e.format, e.keyId, e.payloadType, e.payload, e.signature].contains { $0.utf8.contains { $0 < 0x20 } }
            #expect((CanonicalJSONWriter.encode(e) == nil) == hasControl)
        }
    }
}
