// EnvelopeSigner and the writers' fast paths against their definitions: Swift's Double
// `description`, Foundation's base64, and signing through Foundation then JSONEncoder.
import Crypto
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import Alerting

@Suite("Signing fast path")
struct SigningFastPathTests {
    /// `description` with a trailing ".0" dropped (the reference number text).
    static func reference(_ v: Double) -> [UInt8] {
        var out: [UInt8] = []
        CanonicalJSONWriter.appendDescription(v, to: &out)
        return out
    }

    /// The fast number text, or nil when the writer leaves `v` to `description`.
    static func fast(_ v: Double) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: CanonicalJSONWriter.fixedPointCapacity)
        return buffer.withUnsafeMutableBufferPointer { b in
            CanonicalJSONWriter.fixedPoint(v, into: b).map { Array(b[..<$0]) }
        }
    }

    @Test("fixed-point numbers: k/10^d for |k| ≤ 100,000 and d = 0…3 are all taken, with description's text")
    func fixedPointExhaustive() {
        var mismatches: [Double] = []
        var declined = 0
        for d in 0...3 {
            let scale = [1.0, 10, 100, 1000][d]
            for k in -100_000...100_000 where k != 0 {
                let v = Double(k) / scale
                guard let text = Self.fast(v) else {
                    declined += 1
                    continue
                }
                if text != Self.reference(v) { mismatches.append(v) }
            }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5))")
        #expect(declined == 0)
    }

    @Test("numbers of every shape (random bits, large, tiny, near the limits, signed zeros): the fast text is description's, and zeros are left to it")
    func fixedPointRandom() {
        var rng = SplitMix64(seed: 31337)
        var taken = 0
        var values: [Double] = [0, -0.0, 1e15, -1e15, 999_999_999_999_999, 1e15 - 0.5, 1e8, 1e8 - 0.001, 99_999_999.999,
                                0.001, -0.001, 0.0015, 0.0001, 1e-5, 2.5e-4, 9_007_199_254_740_992, 0.1 + 0.2, 1.0 / 3]
        for _ in 0..<100_000 {
            let bits = UInt64(rng.nextUniform() * 0x1p32) << 32 | UInt64(rng.nextUniform() * 0x1p32)
            let scale = [1.0, 10, 100, 1000, 10_000][Int(rng.nextUniform() * 5)]
            switch Int(rng.nextUniform() * 6) {
            case 0: values.append(Double(bitPattern: bits))
            case 1: values.append((rng.nextStandardNormal() * 1e7 * scale).rounded() / scale)
            case 2: values.append((rng.nextStandardNormal() * 1e14).rounded())
            case 3: values.append(rng.nextStandardNormal() * pow(10, rng.nextUniform() * 40 - 20))
            case 4: values.append((1e8 + rng.nextStandardNormal() * 100 * scale).rounded() / scale)
            default: values.append(((rng.nextUniform() * 300) * 10).rounded() / 10 + [0, 0.001, 0.01, 0.02][Int(rng.nextUniform() * 4)])
            }
        }
        var mismatches: [Double] = []
        for v in values where v.isFinite {
            guard let text = Self.fast(v) else { continue }
            taken += 1
            if text != Self.reference(v) { mismatches.append(v) }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5))")
        #expect(taken > 30_000)  // the fast path is exercised, not declined everywhere
        #expect(Self.fast(0) == nil && Self.fast(-0.0) == nil)
    }

    @Test("base64: Foundation's text for every length 0…600 and a large buffer")
    func base64MatchesFoundation() {
        var rng = SplitMix64(seed: 99)
        for n in Array(0...600) + [5_000, 65_537] {
            let data = Data((0..<n).map { _ in UInt8(rng.nextUniform() * 256) })
            let text = data.withUnsafeBytes { Base64.string($0) }
            #expect(text == data.base64EncodedString(), "length \(n)")
        }
    }

    @Test("500 seeded random warnings, fresh keys: EnvelopeSigner's envelope and bytes equal signing through Foundation + JSONEncoder")
    func warningsMatchDefinition() throws {
        var rng = SplitMix64(seed: 2718)
        for trial in 0..<500 {
            let key = Curve25519.Signing.PrivateKey()
            var m = CanonicalJSONTests.message(&rng)
            if trial % 50 == 7 { m.magnitudeType = "M\tpd" }  // a control character: the encoder's fallback
            let reference = try SignedEnvelope.signWithFoundation(payload: m.encodedWithJSONEncoder(),
                                                                  payloadType: SignedEnvelope.warningJSONType, with: key)
            let signer = EnvelopeSigner(key: key)
            let fast = try signer.sign(m)
            #expect(signer.keyId == reference.keyId)
            #expect(fast.format == reference.format && fast.keyId == reference.keyId
                        && fast.payloadType == reference.payloadType)
            #expect(fast.payload == reference.payload, "trial \(trial)")
            #expect(fast.signature == reference.signature, "trial \(trial)")
            #expect(fast.hasKeptEncoding)
            let bytes = try fast.encoded()
            #expect(bytes == (try reference.encodedWithJSONEncoder()), "trial \(trial)")
            #expect(try SignedEnvelope.sign(m, with: key).encoded() == bytes)
            let verified = try SignedEnvelope.verify(bytes, publicKey: key.publicKey)
            #expect(try WarningMessage.decode(json: verified.payload) == m)
        }
    }

    @Test("other payloads and payload types (quotes, backslashes, control characters, non-ASCII): the definition's fields and bytes")
    func payloadsMatchDefinition() throws {
        var rng = SplitMix64(seed: 1618)
        let key = Curve25519.Signing.PrivateKey()
        let signer = EnvelopeSigner(key: key)
        let types = [SignedEnvelope.capXMLType, SignedEnvelope.warningJSONType, "", "a\"b", "back\\slash", "tab\there",
                     "nul\u{0}", "乐至/😀", "text/plain; charset=utf-8"]
        for trial in 0..<300 {
            let n = Int(rng.nextUniform() * 700)
            let payload = Data((0..<n).map { _ in UInt8(rng.nextUniform() * 256) })
            let type = types[trial % types.count]
            let reference = try SignedEnvelope.signWithFoundation(payload: payload, payloadType: type, with: key)
            let fast = try signer.sign(payload: payload, payloadType: type)
            #expect(fast == reference, "trial \(trial)")
            #expect(fast.payload == reference.payload && fast.signature == reference.signature)
            #expect(try fast.encoded() == reference.encodedWithJSONEncoder(), "trial \(trial) type \(type)")
            #expect(try SignedEnvelope.sign(payload: payload, payloadType: type, with: key) == reference)
        }
    }

    @Test("changing a field drops the kept bytes; equality and Codable ignore them")
    func keptEncodingFollowsTheFields() throws {
        var rng = SplitMix64(seed: 5)
        let key = Curve25519.Signing.PrivateKey()
        let m = CanonicalJSONTests.message(&rng)
        let signed = try EnvelopeSigner(key: key).sign(m)
        let plain = SignedEnvelope(format: signed.format, keyId: signed.keyId, payloadType: signed.payloadType,
                                   payload: signed.payload, signature: signed.signature)
        #expect(signed == plain)
        #expect(!plain.hasKeptEncoding)
        #expect(try signed.encoded() == plain.encoded())
        for change in 0..<5 {
            var e = signed
            switch change {
            case 0: e.format = "other"
            case 1: e.keyId = "0011223344556677"
            case 2: e.payloadType = SignedEnvelope.capXMLType
            case 3: e.payload = "AAAA"
            default: e.signature = "AA=="
            }
            #expect(!e.hasKeptEncoding)
            #expect(try e.encoded() == e.encodedWithJSONEncoder())
            #expect(e != signed)
        }
        let decoded = try JSONDecoder().decode(SignedEnvelope.self, from: signed.encoded())
        #expect(decoded == signed && !decoded.hasKeptEncoding)
        let keys = try JSONSerialization.jsonObject(with: JSONEncoder().encode(signed)) as? [String: Any]
        #expect(keys.map { Set($0.keys) } == ["format", "keyId", "payload", "payloadType", "signature"])
    }

    @Test("the key id of SignedEnvelope.sign follows the key when keys alternate")
    func keyIDCacheFollowsTheKey() throws {
        let keys = (0..<3).map { _ in Curve25519.Signing.PrivateKey() }
        var rng = SplitMix64(seed: 12)
        let m = CanonicalJSONTests.message(&rng)
        for i in [0, 0, 1, 0, 2, 2, 1, 0] {
            let envelope = try SignedEnvelope.sign(m, with: keys[i])
            #expect(envelope.keyId == SignedEnvelope.keyID(of: keys[i].publicKey))
            #expect(try SignedEnvelope.verify(envelope.encoded(), publicKey: keys[i].publicKey).payload == m.canonicalJSON())
        }
    }
}
