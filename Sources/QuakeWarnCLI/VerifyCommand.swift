import Alerting
import ArgumentParser
import Foundation

/// `quakewarn verify --public-key FILE SIGNED_FILE…`: check Ed25519-signed warnings.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify signed warning envelopes against a public key.",
        discussion: """
            Each SIGNED_FILE holds one envelope {"format","keyId","payloadType","payload",
            "signature"} (as written by the warning forwarder or `quakewarn keys sign`). For each
            valid file one JSON line {"file","valid":true,"keyId","payloadType","payloadBytes"} is
            printed to stdout. An altered, forged, truncated or malformed file gets one line
            "FILE: reason" on stderr. Exit status 0 when every file is valid, otherwise 2.
            """
    )

    @Option(name: .long, help: "Public key file (base64 of the raw 32-byte Ed25519 key).")
    var publicKey: String

    @Argument(help: "Signed envelope files.")
    var files: [String]

    func run() throws {
        guard !files.isEmpty else {
            Console.error("error: no SIGNED_FILE given (usage: quakewarn verify --public-key FILE SIGNED_FILE…)")
            throw ExitCode(2)
        }
        let key: Curve25519.Signing.PublicKey
        do {
            key = try SigningKeyFile.loadPublicKey(path: publicKey)
        } catch {
            Console.error("error: --public-key \(error)")
            throw ExitCode(2)
        }
        var failures = 0
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                Console.error("\(file): cannot read the file")
                failures += 1
                continue
            }
            do {
                let verified = try SignedEnvelope.verify(bytes, publicKey: key)
                Console.output(JSONValue.object([
                    ("file", .string(file)), ("valid", .bool(true)), ("keyId", .string(verified.keyId)),
                    ("payloadType", .string(verified.payloadType)), ("payloadBytes", .integer(verified.payload.count)),
                ]).text)
            } catch {
                Console.error("\(file): \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(2) }
    }
}
