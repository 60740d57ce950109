import Alerting
import ArgumentParser
import Foundation

/// `quakewarn keys …`: Ed25519 key management for signed warnings.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate Ed25519 signing keys and sign payloads (warning JSON, CAP XML).",
        subcommands: [KeysGenerateCommand.self, KeysSignCommand.self]
    )
}

/// `quakewarn keys generate --out DIR`.
struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new Ed25519 key pair into DIR.",
        discussion: """
            Writes DIR/quakewarn-signing.key (private key, mode 0600) and DIR/quakewarn-signing.pub
            (public key for terminals and `quakewarn verify`). Each holds one line: the base64 of
            the raw 32-byte key. Existing files are never overwritten. Prints one JSON line
            {"privateKey","publicKey","keyId"} to stdout.
            """
    )

    @Option(name: .long, help: "Directory for the key files (created if missing).")
    var out: String

    func run() throws {
        let paths: (privateKey: String, publicKey: String)
        do {
            paths = try SigningKeyFile.generate(into: out)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
        let keyId: String
        do {
            keyId = SignedEnvelope.keyID(of: try SigningKeyFile.loadPublicKey(path: paths.publicKey))
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
        Console.output(JSONValue.object([("privateKey", .string(paths.privateKey)), ("publicKey", .string(paths.publicKey)),
                                         ("keyId", .string(keyId))]).text)
    }
}

/// `quakewarn keys sign --private-key FILE [--type warning|cap] FILE`.
struct KeysSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign the exact bytes of FILE; print the signed envelope (one JSON line) to stdout.",
        discussion: """
            The envelope is {"format","keyId","payloadType","payload","signature"} with the payload
            as base64 of the file's bytes (see SignedEnvelope in Sources/Alerting/Signing.swift).
            --type warning (default) marks a warning's canonical JSON, --type cap CAP 1.2 XML.
            """
    )

    enum PayloadKind: String, ExpressibleByArgument, CaseIterable {
        case warning, cap
    }

    @Option(name: .long, help: "Private key file written by `quakewarn keys generate`.")
    var privateKey: String

    @Option(name: .long, help: "Payload type: warning (JSON) or cap (XML).")
    var type: PayloadKind = .warning

    @Argument(help: "The file to sign.")
    var file: String

    func run() throws {
        do {
            let key = try SigningKeyFile.loadPrivateKey(path: privateKey)
            guard let payload = FileManager.default.contents(atPath: file) else {
                Console.error("error: \(file): cannot read the file")
                throw ExitCode(2)
            }
            let payloadType = type == .cap ? SignedEnvelope.capXMLType : SignedEnvelope.warningJSONType
            let envelope = try SignedEnvelope.sign(payload: payload, payloadType: payloadType, with: key)
            Console.output(String(decoding: try envelope.encoded(), as: UTF8.self))
        } catch let error as ExitCode {
            throw error
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
    }
}
