// The start-up warm-up (PipelineWarmUp): it exercises the whole warning path on a synthetic
// event, and it leaves nothing behind in the live pipeline.
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
    @Test("the synthetic event near the Lezhi stations is picked at every station and issues signed warnings")
    func exercisesTheWarningPath() throws {
        let quakeWarn = try Scenario.configuration()
        let key = Curve25519.Signing.PrivateKey()
        let signed = SignedCounter()
        let report = PipelineWarmUp.run(configuration: .init(quakeWarn: quakeWarn)) { m in
            signed.increment()
            return try SignedEnvelope.sign(m, with: key)
        }
        #expect(report.problem == nil, "\(report.problem ?? "")")
        // Every station and channel, in 1 s blocks: ≥ 30 s each (12 s before the P wave, 25 s after the origin).
        let channels = quakeWarn.stations.count * 3
        #expect(report.blocks % channels == 0 && report.blocks / channels >= 30, "\(report.blocks) blocks")
        #expect(report.milliseconds > 0)
        #expect(report.picks >= quakeWarn.stations.count)
        #expect(report.events >= 1)
        #expect(report.warnings >= 1)
        #expect(signed.value == report.warnings)
    }

    @Test("the synthetic blocks carry the configured channel codes and sensitivity, in time order")
    func synthesizedBlocks() throws {
        var quakeWarn = try Scenario.configuration()
        quakeWarn.stations[0].channels = ["HHE", "HHZ", "HHN"]
        quakeWarn.stations[0].sensitivityCountsPerMetersPerSecondSquared *= 10
        let blocks = try PipelineWarmUp.synthesize(quakeWarn)
        let ids = Set(blocks.map(\.streamID.description))
        let s0 = quakeWarn.stations[0], s1 = quakeWarn.stations[1]
        #expect(ids == Set((s0.channels.map { "\(s0.network).\(s0.station).\(s0.location).\($0)" })
                           + s1.channels.map { "\(s1.network).\(s1.station).\(s1.location).\($0)" }))
        #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.startTime <= $1.startTime })
        // Station 0 at 10× the sensitivity: its counts are ≈ 10× those of the same simulation at 1×.
        var plain = try Scenario.configuration()
        plain.stations[0].channels = ["HHE", "HHZ", "HHN"]
        let reference = try PipelineWarmUp.synthesize(plain)
        func peak(_ b: [SampleBlock], _ channel: String) -> Double {
            b.filter { $0.streamID.station == s0.station && $0.streamID.channel == channel }
                .flatMap(\.samples).map(abs).max() ?? 0
        }
        let ratio = peak(blocks, "HHZ") / peak(reference, "HHZ")
        #expect(abs(ratio - 10) < 0.01, "ratio \(ratio)")
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
