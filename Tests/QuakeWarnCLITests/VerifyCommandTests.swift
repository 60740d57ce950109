// End-to-end tests of `quakewarn keys generate|sign` and `quakewarn verify` (subprocess, CLIRunner).
import Foundation
import Testing

@Suite("quakewarn keys / verify (subprocess)")
struct VerifyCommandTests {
    /// A fresh directory with a key pair and a signed payload file.
    struct Setup {
        var directory: String
        var publicKey: String
        var privateKey: String
        var payload: Data
        var signed: String

        func path(_ name: String) -> String { directory + "/" + name }

        /// Writes a modified copy of the signed envelope (edited with JSONSerialization).
        func variant(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> String {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: signed))
            var object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
            change(&object)
            let out = path(name)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: out))
            return out
        }
    }

    static func setup() throws -> Setup {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-verify-\(UUID().uuidString)").path
        let gen = try CLIRunner.run(["keys", "generate", "--out", dir + "/keys"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(gen.stdout.utf8)) as? [String: Any])
        let privateKey = try #require(info["privateKey"] as? String)
        let publicKey = try #require(info["publicKey"] as? String)
        #expect((info["keyId"] as? String)?.count == 16)
        let payload = Data(#"{"id":"qw1","msgType":"Alert","updateNumber":0}"#.utf8)
        let payloadPath = dir + "/warning.json"
        try payload.write(to: URL(fileURLWithPath: payloadPath))
        let sign = try CLIRunner.run(["keys", "sign", "--private-key", privateKey, payloadPath])
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = dir + "/warning.signed.json"
        try Data(sign.stdout.utf8).write(to: URL(fileURLWithPath: signed))
        return Setup(directory: dir, publicKey: publicKey, privateKey: privateKey, payload: payload, signed: signed)
    }

    @Test func generateWritesPrivateKeyWithMode0600AndRefusesOverwrite() throws {
        let s = try Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }
        let attributes = try FileManager.default.attributesOfItem(atPath: s.privateKey)
        let mode = try #require(attributes[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        let text = try String(contentsOfFile: s.privateKey, encoding: .utf8)
        #expect(Data(base64Encoded: text.trimmingCharacters(in: .newlines))?.count == 32)
        let again = try CLIRunner.run(["keys", "generate", "--out", s.directory + "/keys"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("refusing to overwrite"))
    }

    @Test func validEnvelopeIsAccepted() throws {
        let s = try Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }
        let result = try CLIRunner.run(["verify", "--public-key", s.publicKey, s.signed])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdoutLines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect((object["payloadBytes"] as? NSNumber)?.intValue == s.payload.count)
        #expect(object["payloadType"] as? String == "application/vnd.quakewarn.warning+json")
        // The payload travels verbatim as base64.
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.signed)))
                                    as? [String: Any])
        #expect(Data(base64Encoded: envelope["payload"] as? String ?? "") == s.payload)
    }

    @Test func alteredForgedTruncatedAndMalformedAreRejected() throws {
        let s = try Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }
        var flipped = s.payload
        flipped[5] ^= 0x01
        let altered = try s.variant("altered.json") { $0["payload"] = flipped.base64EncodedString() }
        let original = try Data(contentsOf: URL(fileURLWithPath: s.signed))
        let truncated = s.path("truncated.json")
        try original.prefix(original.count - 10).write(to: URL(fileURLWithPath: truncated))
        let garbage = s.path("garbage.json")
        try Data([0x00, 0xFF, 0x7B]).write(to: URL(fileURLWithPath: garbage))
        for (file, reason) in [(altered, "altered or forged"), (truncated, "malformed"), (garbage, "malformed"),
                               (s.path("missing.json"), "cannot read")] {
            let result = try CLIRunner.run(["verify", "--public-key", s.publicKey, file])
            #expect(result.status == 2, "\(file)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(lines.first?.hasPrefix(file + ": ") == true && result.stderr.contains(reason), "\(result.stderr)")
        }
        // A valid file next to a bad one: the valid one is reported, the exit status is still 2.
        let mixed = try CLIRunner.run(["verify", "--public-key", s.publicKey, s.signed, altered])
        #expect(mixed.status == 2 && mixed.stdoutLines.count == 1)
    }

    /// `keys sign --type cap` marks the payload as CAP XML; the type is covered by the signature.
    @Test func capPayloadType() throws {
        let s = try Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }
        let xml = s.path("alert.xml")
        try Data("<alert/>".utf8).write(to: URL(fileURLWithPath: xml))
        let sign = try CLIRunner.run(["keys", "sign", "--private-key", s.privateKey, "--type", "cap", xml])
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = s.path("alert.signed.json")
        try Data(sign.stdout.utf8).write(to: URL(fileURLWithPath: signed))
        let ok = try CLIRunner.run(["verify", "--public-key", s.publicKey, signed])
        #expect(ok.status == 0 && ok.stdout.contains("application/cap+xml"), "\(ok.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: signed))
        var object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        object["payloadType"] = "application/vnd.quakewarn.warning+json"
        let retyped = s.path("retyped.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: retyped))
        let bad = try CLIRunner.run(["verify", "--public-key", s.publicKey, retyped])
        #expect(bad.status == 2 && bad.stderr.contains("altered or forged"))
        // A private key readable by others is refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: s.privateKey)
        let insecure = try CLIRunner.run(["keys", "sign", "--private-key", s.privateKey, xml])
        #expect(insecure.status == 2 && insecure.stderr.contains("chmod 600"), "\(insecure.stderr)")
    }

    @Test func wrongKeyIsRejected() throws {
        let s = try Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }
        let other = try CLIRunner.run(["keys", "generate", "--out", s.directory + "/other"])
        #expect(other.status == 0)
        let result = try CLIRunner.run(["verify", "--public-key", s.directory + "/other/quakewarn-signing.pub", s.signed])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not with the given public key"), "\(result.stderr)")
        // A bad public key file is a usage error with a one-line reason.
        let bad = try CLIRunner.run(["verify", "--public-key", s.signed, s.signed])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
    }
}
