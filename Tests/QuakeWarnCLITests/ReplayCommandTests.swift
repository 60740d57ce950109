// End-to-end tests of `quakewarn replay` on the committed scenario sets (SampleWaveforms/scenarios).
import Foundation
import Testing
import TestSupport

private enum ReplayScenario {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let scenarios = root.appendingPathComponent("SampleWaveforms/scenarios")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func text(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }
}

@Suite("quakewarn replay")
struct ReplayCommandTests {
    @Test("replay of the Longquan M5.8 scenario writes every file, CAP validates, exit 0")
    func writesAllFiles() throws {
        let out = try ReplayScenario.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let set = ReplayScenario.scenarios.appendingPathComponent("longquan-m5.8").path
        // No --config: a PATH inside SampleWaveforms selects SampleWaveforms/scenarios/config.yaml.
        let r = try CLIRunner.run(["replay", set, "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("scenarios/config.yaml"))
        for name in ["picks.jsonl", "events.jsonl", "decisions.jsonl", "warnings.jsonl", "summary.txt", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name) missing")
        }
        let warnings = try ReplayScenario.text(out.appendingPathComponent("warnings.jsonl"))
            .split(separator: "\n").map(String.init)
        #expect(!warnings.isEmpty)
        let firstLine = try #require(warnings.first)
        let parsed = try JSONSerialization.jsonObject(with: Data(firstLine.utf8))
        let first = try #require(parsed as? [String: Any])
        #expect(first["msgType"] as? String == "Alert")
        #expect(first["status"] as? String == "Exercise")
        let targets = try #require(first["targets"] as? [[String: Any]])
        #expect(targets.count == 7)
        // One human line per warning on stderr; the summary table on stdout.
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("Exercise Alert") || $0.hasPrefix("Exercise Update") }.count
                == warnings.count)
        #expect(r.stdout.contains("picks  rejected"))
        #expect(r.stdout == (try ReplayScenario.text(out.appendingPathComponent("summary.txt"))))

        let capDir = out.appendingPathComponent("cap")
        let caps = try FileManager.default.contentsOfDirectory(atPath: capDir.path).sorted()
        #expect(caps.count == warnings.count)
        let id = try #require(first["id"] as? String)
        #expect(caps.contains("\(id)-0.xml"))
        let xmllint = ["/usr/bin/xmllint", "/usr/local/bin/xmllint"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let lint = try #require(xmllint, "xmllint missing: install the Debian package libxml2-utils")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: lint)
        process.arguments = ["--noout", "--schema", Fixtures.path("alerting/CAP-v1.2.xsd")]
            + caps.map { capDir.appendingPathComponent($0).path }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(log)")
    }

    @Test("two replays give byte-identical files")
    func deterministic() throws {
        let a = try ReplayScenario.temporaryDirectory()
        let b = try ReplayScenario.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: a)
            try? FileManager.default.removeItem(at: b)
        }
        let set = ReplayScenario.scenarios.appendingPathComponent("longmenshan-m7.5").path
        let config = ReplayScenario.scenarios.appendingPathComponent("config.yaml").path
        #expect(try CLIRunner.run(["replay", set, "--config", config, "--out", a.path, "--exercise"]).status == 0)
        #expect(try CLIRunner.run(["replay", set, "--config", config, "--out", b.path, "--exercise"]).status == 0)
        for name in ["picks.jsonl", "events.jsonl", "decisions.jsonl", "warnings.jsonl", "summary.txt", "report.html"] {
            let x = try Data(contentsOf: a.appendingPathComponent(name))
            let y = try Data(contentsOf: b.appendingPathComponent(name))
            #expect(x == y, "\(name) differs")
        }
        #expect(try Data(contentsOf: a.appendingPathComponent("warnings.jsonl")).count > 0)
    }

    @Test("the hour of noise with 12 glitches per station (noise-glitches): zero events, zero warnings, exit 0")
    func noiseOnly() throws {
        let out = try ReplayScenario.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let set = ReplayScenario.scenarios.appendingPathComponent("noise-glitches").path
        let r = try CLIRunner.run(["replay", set, "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ReplayScenario.text(out.appendingPathComponent("warnings.jsonl")).isEmpty)
        #expect(try ReplayScenario.text(out.appendingPathComponent("events.jsonl")).isEmpty)
        #expect(r.stdout.contains("no events"))
    }

    @Test("bad config: exit 2 with one line naming the file and key")
    func badConfig() throws {
        let dir = try ReplayScenario.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try ReplayScenario.text(ReplayScenario.scenarios.appendingPathComponent("config.yaml"))
        let bad = good.replacingOccurrences(of: "latitudeDegrees: 30.270", with: "latitudeDegrees: 95.2")
        #expect(bad != good)
        let config = dir.appendingPathComponent("bad.yaml")
        try Data(bad.utf8).write(to: config)
        let set = ReplayScenario.scenarios.appendingPathComponent("nearby-m4.5").path
        let r = try CLIRunner.run(["replay", set, "--config", config.path, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("bad.yaml") && r.stderr.contains("stations[0].latitudeDegrees"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    @Test("bad input: missing path, bad --speed → exit 2 with one line")
    func badInput() throws {
        let missing = try CLIRunner.run(["replay", "/nonexistent/quakewarn-replay.mseed"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/quakewarn-replay.mseed"))
        let set = ReplayScenario.scenarios.appendingPathComponent("nearby-m4.5").path
        let speed = try CLIRunner.run(["replay", set, "--speed", "fast"])
        #expect(speed.status == 2)
        #expect(speed.stderr.contains("--speed"))
        #expect(speed.stderr.split(separator: "\n").count == 1)
    }

    @Test("--private-key signs every warning; quakewarn verify accepts them and rejects an altered one")
    func signedWarnings() throws {
        let out = try ReplayScenario.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let keys = out.appendingPathComponent("keys")
        let generated = try CLIRunner.run(["keys", "generate", "--out", keys.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let privateKey = keys.appendingPathComponent("quakewarn-signing.key").path
        let publicKey = keys.appendingPathComponent("quakewarn-signing.pub").path
        let set = ReplayScenario.scenarios.appendingPathComponent("longquan-m5.8").path
        let replayOut = out.appendingPathComponent("replay")
        let r = try CLIRunner.run(["replay", set, "--out", replayOut.path, "--private-key", privateKey])
        #expect(r.status == 0, "\(r.stderr)")
        let warnings = try ReplayScenario.text(replayOut.appendingPathComponent("warnings.jsonl"))
            .split(separator: "\n")
        let signedDir = replayOut.appendingPathComponent("signed")
        let signed = try FileManager.default.contentsOfDirectory(atPath: signedDir.path).sorted()
            .filter { $0.hasSuffix(".json") }
            .map { signedDir.appendingPathComponent($0).path }
        #expect(!warnings.isEmpty)
        #expect(signed.count == warnings.count)
        let verified = try CLIRunner.run(["verify", "--public-key", publicKey] + signed)
        #expect(verified.status == 0, "\(verified.stderr)")
        // Every CAP document is signed too; the verified payload is the XML file byte for byte.
        let capDir = replayOut.appendingPathComponent("cap")
        let capFiles = try FileManager.default.contentsOfDirectory(atPath: capDir.path).sorted()
        let signedCAP = try FileManager.default.contentsOfDirectory(atPath: signedDir.appendingPathComponent("cap").path).sorted()
        #expect(signedCAP == capFiles.map { $0 + ".json" })
        for name in capFiles {
            let envelopePath = signedDir.appendingPathComponent("cap/\(name).json").path
            let v = try CLIRunner.run(["verify", "--public-key", publicKey, envelopePath])
            #expect(v.status == 0, "\(v.stderr)")
            #expect(v.stdout.contains("application/cap+xml"))
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: envelopePath)))
            let envelope = try #require(object as? [String: Any])
            let base64 = try #require(envelope["payload"] as? String)
            let payload = try #require(Data(base64Encoded: base64))
            #expect(payload == (try Data(contentsOf: capDir.appendingPathComponent(name))))
        }
        // An altered CAP envelope is rejected.
        let firstCAP = try #require(capFiles.first)
        let capVictim = signedDir.appendingPathComponent("cap/\(firstCAP).json")
        var capText = try ReplayScenario.text(capVictim)
        let capRange = try #require(capText.range(of: "\"payload\":\""))
        let capIndex = capText.index(capRange.upperBound, offsetBy: 20)
        capText.replaceSubrange(capIndex...capIndex, with: capText[capIndex] == "A" ? "B" : "A")
        try Data(capText.utf8).write(to: capVictim)
        let capTampered = try CLIRunner.run(["verify", "--public-key", publicKey, capVictim.path])
        #expect(capTampered.status == 2)
        // Flip one character of one envelope's payload: verification must fail for that file.
        let victim = try #require(signed.first)
        var text = try ReplayScenario.text(URL(fileURLWithPath: victim))
        let range = try #require(text.range(of: "\"payload\":\""))
        let index = text.index(range.upperBound, offsetBy: 10)
        let original = text[index]
        text.replaceSubrange(index...index, with: original == "A" ? "B" : "A")
        try Data(text.utf8).write(to: URL(fileURLWithPath: victim))
        let tampered = try CLIRunner.run(["verify", "--public-key", publicKey, victim])
        #expect(tampered.status == 2)
        #expect(tampered.stderr.contains(victim))
    }

    @Test("an unreadable --private-key exits 2 naming it")
    func badPrivateKey() throws {
        let out = try ReplayScenario.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let set = ReplayScenario.scenarios.appendingPathComponent("nearby-m4.5").path
        let r = try CLIRunner.run(["replay", set, "--out", out.path, "--private-key", "/nonexistent/qw.key"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/qw.key"))
    }
}
