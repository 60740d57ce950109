// The daemon's start-up warm-up (DaemonWarmUp): it exercises the whole warning path, signing
// included, and it leaves the live pipeline as it was.
import Alerting
@preconcurrency import Crypto
import Foundation
import Pipeline
import SeismicCore
import Synchronization
import Testing
@testable import Ingest

@Suite("Start-up warm-up")
struct WarmupTests {
    @Test("with the Lezhi configuration: picks and warnings from the synthetic data, one warning signed with the daemon's key, live outputs unchanged")
    func exercisesTheWarningPath() throws {
        let quakeWarn = try Scenario.configuration()
        let key = Curve25519.Signing.PrivateKey()
        let signed = SignedCounter()
        var live = ReplayPipeline(.init(quakeWarn: quakeWarn))
        let report = DaemonWarmUp.run(pipeline: live) { m in
            signed.increment()
            return try SignedEnvelope.sign(m, with: key)
        }
        #expect(report.problem == nil, "\(report.problem ?? "")")
        #expect(report.pipeline.waveformPicks >= 1)
        #expect(report.pipeline.waveformWarnings + report.pipeline.eventWarnings >= 1)
        #expect(report.signed == 1 && signed.value == 1)
        #expect(report.milliseconds > 0)
        // The live pipeline after the warm-up gives what a fresh one gives.
        var fresh = ReplayPipeline(.init(quakeWarn: quakeWarn))
        let blocks = try Scenario.segments("nearby-m4.5")
        func run(_ p: inout ReplayPipeline) throws -> String {
            var records: [PipelineRecord] = []
            for b in blocks { records += p.process(b) }
            records += p.finish()
            var o = ReplayOutputs()
            for r in records { try o.add(r) }
            return o.warnings.joined(separator: "\n") + o.events.joined(separator: "\n")
        }
        let a = try run(&live), b = try run(&fresh)
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    @Test("without a signer nothing is signed; the synthetic warning carries every configured target")
    func unsignedAndSyntheticWarning() throws {
        let quakeWarn = try Scenario.configuration()
        let report = DaemonWarmUp.run(pipeline: ReplayPipeline(.init(quakeWarn: quakeWarn)), sign: nil)
        #expect(report.signed == 0 && report.problem == nil)
        let m = DaemonWarmUp.syntheticWarning(quakeWarn)
        #expect(m.targets.map(\.name) == quakeWarn.targets.map(\.name))
        #expect(m.status == .test)
    }

    @Test("warm-up off in ingest.yaml; a non-boolean value is an error naming the key")
    func configurationKey() throws {
        let base = "configuration: lezhi.yaml\nseedlink: { port: 18000 }\n"
        #expect(try IngestConfiguration.parse(yaml: base, file: "/etc/qw/ingest.yaml").warmUp)
        #expect(try !IngestConfiguration.parse(yaml: base + "warmUp: false\n", file: "/etc/qw/ingest.yaml").warmUp)
        #expect {
            try IngestConfiguration.parse(yaml: base + "warmUp: maybe\n", file: "/etc/qw/ingest.yaml")
        } throws: { error in
            "\(error)".contains("warmUp") && "\(error)".contains("true or false")
        }
    }
}

private final class SignedCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
