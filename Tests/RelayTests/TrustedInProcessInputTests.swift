// The checks an in-process warning (signed by the ingest daemon itself) still gets, without the
// line parsing and signature verification of socket input.
import Alerting
import Crypto
import Foundation
import Logging
import SeismicCore
import Testing
@testable import Relay

@Suite("In-process signed warnings (RelayVerifier.accept)")
struct TrustedInProcessInputTests {
    static func warning(_ id: String = "qw-trusted", update: Int = 0) -> WarningMessage {
        let t = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
        return WarningMessage(
            id: id, updateNumber: update, status: .exercise, msgType: update == 0 ? .alert : .update, originTime: t,
            epicenter: GeoPoint(latitudeDegrees: 30.3, longitudeDegrees: 105.0), depthKilometers: 10, magnitude: 5.5,
            magnitudeUncertainty: 0.3, magnitudeType: "Mpd", numberOfStations: 1,
            targets: [TargetPrediction(name: "Lezhi county seat", kind: .countySeat, epicentralDistanceKilometers: 30,
                                       predictedIntensity: 6.5, predictedIntensitySigma: 0.5,
                                       sWaveArrivalTime: t.adding(nanoseconds: 9_000_000_000), countdownSeconds: 7.5,
                                       warningLevel: .orange)],
            createdTime: t.adding(nanoseconds: 4_000_000_000))
    }

    @Test("a configured key: the same VerifiedInput as the socket path gives for the encoded line")
    func acceptedLikeTheVerifiedLine() throws {
        let key = Curve25519.Signing.PrivateKey()
        let verifier = RelayVerifier(publicKeys: [key.publicKey])
        let m = Self.warning()
        let envelope = try SignedEnvelope.sign(m, with: key)
        let trusted = try InProcessSignedWarning(message: m, envelope: envelope)
        #expect(trusted.envelopeBytes == (try envelope.encoded()))
        let accepted = try verifier.accept(trusted).get()
        let verified = try verifier.verify(line: try envelope.encoded()).get()
        #expect(accepted == verified)
        #expect(accepted.level == .orange && accepted.status == .exercise && accepted.kind == .warning)
    }

    @Test("rejected: a key the relay does not trust, another format or payload type, an empty id, a negative update")
    func rejections() throws {
        let key = Curve25519.Signing.PrivateKey()
        let verifier = RelayVerifier(publicKeys: [key.publicKey])
        func code(_ m: WarningMessage, signer: Curve25519.Signing.PrivateKey = key,
                  edit: (inout SignedEnvelope) -> Void = { _ in }) throws -> String? {
            var envelope = try SignedEnvelope.sign(m, with: signer)
            edit(&envelope)
            guard case .failure(let r) = verifier.accept(try InProcessSignedWarning(message: m, envelope: envelope)) else { return nil }
            return r.code
        }
        #expect(try code(Self.warning(), signer: Curve25519.Signing.PrivateKey()) == RelayRejection.unknownKey)
        #expect(try code(Self.warning()) { $0.format = "quakewarn-signed-v0" } == RelayRejection.malformedEnvelope)
        #expect(try code(Self.warning()) { $0.payloadType = SignedEnvelope.capXMLType } == RelayRejection.unsupportedType)
        #expect(try code(Self.warning("")) == RelayRejection.notAWarning)
        #expect(try code(Self.warning(update: -1)) == RelayRejection.notAWarning)
        #expect(try code(Self.warning()) == nil)
    }
}

@Suite("RelayReply text (the in-process path passes replies as values)")
struct RelayReplyTextTests {
    @Test("every reply kind, with quotes and backslashes in its strings, parses back to itself")
    func roundTrip() {
        let replies: [RelayReply] = [
            .welcome,
            .ack(RelayAck(id: "qw-20260512T070029.760-NANTA", update: 3, duplicate: false)),
            .ack(RelayAck(id: "ev\"x\\y", update: 0, duplicate: true, kind: .cap)),
            .reject(code: RelayRejection.badSignature, line: 17, detail: "signature \"does not\" match \\ payload"),
            .error("unauthorized"),
        ]
        for reply in replies {
            #expect(RelayReply(line: Data(reply.text.utf8)) == reply, "\(reply.text)")
        }
        #expect(RelayReply.ack(RelayAck(id: "a", update: 1, duplicate: false)).text == #"{"ack":"a","update":1,"duplicate":false}"#)
    }
}

@Suite("Relay intake warm-up")
struct IntakeWarmUpTests {
    @Test("the accept paths (record transaction and plain commit) run on a throwaway outbox: every synthetic warning acknowledged, no directory left behind")
    func throwawayOutbox() throws {
        let temporary = FileManager.default.temporaryDirectory
        func leftovers() throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("quakewarn-relay-warm-up-") })
        }
        let before = try leftovers()
        #expect(RelayIntake.warmUpAcceptPath(logger: Logger(label: "test")) == nil)
        #expect(try leftovers() == before)
    }
}
