import Alerting
import Foundation
import SeismicCore
import Testing

@Suite("Ed25519 signed envelopes")
struct SigningTests {
    static func signedWarning() throws -> (Curve25519.Signing.PrivateKey, WarningMessage, Data) {
        let key = Curve25519.Signing.PrivateKey()
        let message = try TestScenario.predictor.message(for: TestScenario.solution(), msgType: .alert, updateNumber: 0,
                                                         status: .actual, now: TestScenario.now)
            .sent(at: TestScenario.now.adding(nanoseconds: 300_000))
        return (key, message, try SignedEnvelope.sign(message, with: key).encoded())
    }

    /// Rewrites one field of an envelope (JSONSerialization, i.e. independent of the code under test).
    static func edit(_ envelope: Data, _ change: (inout [String: Any]) -> Void) throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: envelope) as? [String: Any])
        change(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func validEnvelopeVerifiesAndReturnsTheExactPayload() throws {
        let (key, message, envelope) = try Self.signedWarning()
        let verified = try SignedEnvelope.verify(envelope, publicKey: key.publicKey)
        #expect(verified.payloadType == SignedEnvelope.warningJSONType)
        #expect(verified.payload == (try message.canonicalJSON()))
        #expect(try WarningMessage.decode(json: verified.payload) == message)
        // Independent check of the signed bytes: Ed25519 over "QWSIG1 <len> <type> <len> <payload>".
        let object = try #require(try JSONSerialization.jsonObject(with: envelope) as? [String: Any])
        let signatureText = try #require(object["signature"] as? String)
        let signature = try #require(Data(base64Encoded: signatureText))
        let payload = try message.canonicalJSON()
        var pae = Data("QWSIG1 38 application/vnd.quakewarn.warning+json \(payload.count) ".utf8)
        pae.append(payload)
        #expect(key.publicKey.isValidSignature(signature, for: pae))
        // Key order in the envelope does not matter (the verifier never re-serialises).
        let reordered = try JSONSerialization.data(withJSONObject: object, options: [])
        #expect(throws: Never.self) { try SignedEnvelope.verify(reordered, publicKey: key.publicKey) }
    }

    @Test func flippingAnyPayloadByteIsRejected() throws {
        let (key, message, envelope) = try Self.signedWarning()
        let payload = try message.canonicalJSON()
        for index in [0, payload.count / 2, payload.count - 1] {
            var altered = payload
            altered[index] ^= 0x01
            let forged = try Self.edit(envelope) { $0["payload"] = altered.base64EncodedString() }
            #expect(throws: VerificationError.badSignature) { try SignedEnvelope.verify(forged, publicKey: key.publicKey) }
        }
        let envelopeObject = try JSONSerialization.jsonObject(with: envelope) as? [String: Any]
        let signatureText = try #require(envelopeObject?["signature"] as? String)
        var signature = try #require(Data(base64Encoded: signatureText))
        signature[10] ^= 0x80
        let badSignature = try Self.edit(envelope) { $0["signature"] = signature.base64EncodedString() }
        #expect(throws: VerificationError.badSignature) { try SignedEnvelope.verify(badSignature, publicKey: key.publicKey) }
        // The payload type is signed too: a warning signature does not cover a "CAP" payload.
        let retyped = try Self.edit(envelope) { $0["payloadType"] = SignedEnvelope.capXMLType }
        #expect(throws: VerificationError.badSignature) { try SignedEnvelope.verify(retyped, publicKey: key.publicKey) }
    }

    @Test func wrongKeyIsRejected() throws {
        let (_, _, envelope) = try Self.signedWarning()
        let other = Curve25519.Signing.PrivateKey().publicKey
        #expect(throws: VerificationError.self) { try SignedEnvelope.verify(envelope, publicKey: other) }
        // Even with the keyId rewritten to the verifier's key, the signature fails.
        let relabelled = try Self.edit(envelope) { $0["keyId"] = SignedEnvelope.keyID(of: other) }
        #expect(throws: VerificationError.badSignature) { try SignedEnvelope.verify(relabelled, publicKey: other) }
    }

    /// Every truncation of a valid envelope, and assorted garbage, is rejected without trapping.
    @Test func truncatedAndMalformedInputNeverTraps() throws {
        let (key, _, envelope) = try Self.signedWarning()
        for length in 0..<envelope.count {
            #expect(throws: VerificationError.self) {
                try SignedEnvelope.verify(envelope.prefix(length), publicKey: key.publicKey)
            }
        }
        let garbage: [Data] = [Data([0xFF, 0xFE, 0x00]), Data("[]".utf8), Data("null".utf8),
                               try Self.edit(envelope) { $0["signature"] = "not base64!" },
                               try Self.edit(envelope) { $0["signature"] = Data(count: 63).base64EncodedString() },
                               try Self.edit(envelope) { $0["payload"] = 42 },
                               try Self.edit(envelope) { $0["format"] = "v0" },
                               try Self.edit(envelope) { $0.removeValue(forKey: "keyId") }]
        for bytes in garbage {
            #expect(throws: VerificationError.self) { try SignedEnvelope.verify(bytes, publicKey: key.publicKey) }
        }
    }

    @Test func capXMLCanBeSigned() throws {
        let key = Curve25519.Signing.PrivateKey()
        let message = try TestScenario.predictor.message(for: TestScenario.solution(), msgType: .alert, updateNumber: 0,
                                                         status: .actual, now: TestScenario.now)
        let xml = Data(CAPRenderer(cap: TestScenario.cap, predictor: TestScenario.predictor).render(message).utf8)
        let envelope = try SignedEnvelope.sign(payload: xml, payloadType: SignedEnvelope.capXMLType, with: key).encoded()
        let verified = try SignedEnvelope.verify(envelope, publicKey: key.publicKey)
        #expect(verified.payload == xml && verified.payloadType == "application/cap+xml")
    }

    @Test func keyFilesRoundTripWithPrivateMode0600() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try SigningKeyFile.generate(into: dir)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: paths.privateKey)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        let privateKey = try SigningKeyFile.loadPrivateKey(path: paths.privateKey)
        let publicKey = try SigningKeyFile.loadPublicKey(path: paths.publicKey)
        #expect(privateKey.publicKey.rawRepresentation == publicKey.rawRepresentation)
        // One line of base64 of 32 raw bytes.
        let text = try String(contentsOfFile: paths.publicKey, encoding: .utf8)
        #expect(text.hasSuffix("\n") && Data(base64Encoded: String(text.dropLast()))?.count == 32)
        #expect(throws: SigningKeyFile.KeyFileError.self) { try SigningKeyFile.generate(into: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: paths.privateKey)
        #expect(throws: SigningKeyFile.KeyFileError.self) { try SigningKeyFile.loadPrivateKey(path: paths.privateKey) }
        try Data("AAAA\n".utf8).write(to: URL(fileURLWithPath: paths.publicKey))
        #expect(throws: SigningKeyFile.KeyFileError.self) { try SigningKeyFile.loadPublicKey(path: paths.publicKey) }
    }

    /// RFC 8032 §7.1 TEST 1: the secret key 9d61…7f60 has public key d75a…511a and signs the empty
    /// message as e556…100b; checks that the key files' raw representation is the RFC's.
    @Test func rfc8032TestVector() throws {
        func hex(_ s: String) -> Data {
            var out = Data()
            var it = s.makeIterator()
            while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
            return out
        }
        let key = try Curve25519.Signing.PrivateKey(
            rawRepresentation: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(key.publicKey.rawRepresentation == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.publicKey.isValidSignature(signature, for: Data()))
    }
}
