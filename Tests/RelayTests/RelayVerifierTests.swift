import Alerting
import Foundation
import Relay
import Testing
import TestSupport

@Suite("Relay input verification")
struct RelayVerifierTests {
    static func capXML(_ message: WarningMessage) -> Data {
        let renderer = CAPRenderer(cap: CAPConfiguration(sender: "relay-test@quakewarn.example", senderName: "QuakeWarn test"),
                                   predictor: WarningPredictor(alerting: AlertingConfiguration(), targets: []))
        return Data(renderer.render(message).utf8)
    }

    func code(_ result: Result<VerifiedInput, RelayRejection>) -> String? {
        if case .failure(let rejection) = result { return rejection.code }
        return nil
    }

    @Test("a signed warning verifies and yields its key, status and highest level")
    func valid() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let verifier = try RelayVerifier.load(publicKeyFiles: [fixture.publicKeyFile])
        let message = sampleWarning(id: "2026-lezhi-0007", update: 2, status: .exercise, level: .red)
        let envelope = try fixture.sign(message)
        let input = try verifier.verify(line: envelope.encoded()).get()
        #expect(input.kind == .warning && input.eventId == "2026-lezhi-0007" && input.updateNumber == 2)
        #expect(input.status == .exercise && input.level == .red && input.message == message)
        #expect(input.envelopeBytes == (try envelope.encoded()))
        // Key order and whitespace do not matter on input; the forwarded bytes are canonical.
        let pretty = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: envelope.encoded()),
                                                options: [.prettyPrinted])
        #expect(try verifier.verify(line: pretty).get().envelopeBytes == (try envelope.encoded()))
    }

    @Test("every single-byte alteration of a signed line is rejected or leaves the warning unchanged")
    func oneAlteredByte() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let verifier = try RelayVerifier.load(publicKeyFiles: [fixture.publicKeyFile])
        let message = sampleWarning(id: "ev-altered")
        let line = Array(try fixture.sign(message).encoded())
        var rejected = 0
        var codes: Set<String> = []
        for position in line.indices {
            var altered = line
            altered[position] ^= 0x01
            switch verifier.verify(line: Data(altered)) {
            case .failure(let rejection):
                rejected += 1
                codes.insert(rejection.code)
            case .success(let input):
                // Only encodings that decode to the very same signed bytes may pass (e.g. a
                // JSON key spelled differently is impossible, base64 padding bits are not).
                #expect(input.message == message, "altered byte \(position) changed the warning and verified")
            }
        }
        #expect(rejected >= line.count - 4, "\(rejected) of \(line.count)")
        #expect(codes.isSuperset(of: [RelayRejection.badSignature, RelayRejection.malformedJSON, RelayRejection.unknownKey]), "\(codes)")

        // One byte changed inside the signed payload itself (magnitude 6.6 → 7.6), re-encoded properly.
        var envelope = try fixture.sign(message)
        var payload = try #require(Data(base64Encoded: envelope.payload))
        let text = String(decoding: payload, as: UTF8.self)
        let range = try #require(text.range(of: "\"magnitude\":6.6"))
        let offset = text.utf8.distance(from: text.startIndex, to: range.upperBound) - 3
        payload[offset] = UInt8(ascii: "7")
        envelope.payload = payload.base64EncodedString()
        #expect(code(verifier.verify(line: try envelope.encoded())) == RelayRejection.badSignature)
    }

    @Test("unsigned, malformed, unknown key, wrong type and non-warnings are rejected with their reason")
    func rejections() throws {
        let fixture = try RelayFixture()
        let other = try RelayFixture()
        defer { fixture.remove(); other.remove() }
        let verifier = try RelayVerifier.load(publicKeyFiles: [fixture.publicKeyFile])
        let message = sampleWarning(id: "ev-r")
        #expect(code(verifier.verify(line: try message.canonicalJSON())) == RelayRejection.unsigned)
        #expect(code(verifier.verify(line: Data("not json".utf8))) == RelayRejection.malformedJSON)
        #expect(code(verifier.verify(line: Data("[1,2]".utf8))) == RelayRejection.malformedJSON)
        #expect(code(verifier.verify(line: Data("{\"signature\":1}".utf8))) == RelayRejection.malformedEnvelope)
        #expect(code(verifier.verify(line: try other.sign(message).encoded())) == RelayRejection.unknownKey)
        #expect(code(verifier.verify(line: try fixture.sign(payload: Data("{\"id\":1}".utf8), type: SignedEnvelope.warningJSONType).encoded()))
                == RelayRejection.notAWarning)
        #expect(code(verifier.verify(line: try fixture.sign(payload: Data("hi".utf8), type: "text/plain").encoded()))
                == RelayRejection.unsupportedType)
        var wrongFormat = try fixture.sign(message)
        wrongFormat.format = "quakewarn-signed-v0"
        #expect(code(verifier.verify(line: try wrongFormat.encoded())) == RelayRejection.malformedEnvelope)
    }

    @Test("a signed CAP 1.2 envelope from CAPRenderer is accepted with the warning's key")
    func cap() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let verifier = try RelayVerifier.load(publicKeyFiles: [fixture.publicKeyFile])
        let message = sampleWarning(id: "2026-lezhi-0009", update: 3, status: .test, level: .yellow)
        let envelope = try fixture.sign(payload: Self.capXML(message), type: SignedEnvelope.capXMLType)
        let input = try verifier.verify(line: envelope.encoded()).get()
        #expect(input.kind == .cap && input.eventId == "2026-lezhi-0009" && input.updateNumber == 3)
        #expect(input.status == .test && input.level == .yellow && input.message == nil)
        #expect(RelayTopics.topic(prefix: "qw", kind: input.kind, status: input.status, level: input.level) == "qw/cap/test/yellow")
        let notCAP = try fixture.sign(payload: Data("<alert/>".utf8), type: SignedEnvelope.capXMLType)
        #expect(code(verifier.verify(line: try notCAP.encoded())) == RelayRejection.notAWarning)
    }
}
