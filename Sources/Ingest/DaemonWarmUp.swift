// Start-up warm-up of the daemon's warning path, so that the first real Alert does not pay the
// process's one-time costs.

import Alerting
import Foundation
import Pipeline
import Relay
import SeismicCore

/// What the ingest daemon runs before its first record: ``ReplayPipeline/warmUp()`` (synthetic
/// waveforms through a throwaway pipeline with the same configuration, and a synthetic event
/// through a copy of the event stage: picker, station parameters, event builder, locator,
/// warning issuer, CAP rendering, canonical JSON), then the daemon's own part of a warning's path
/// on a synthetic warning: Ed25519 signing with the daemon's key and the envelope encoding of the
/// relay hand-off (``InProcessSignedWarning``).
///
/// Why: an EEW daemon is idle almost all the time, and the first warning of an event, the Alert,
/// is the one that matters most. Without a warm-up that Alert runs all of the above **for the
/// first time in the process**. The end-to-end traces (`Benchmarks/scripts/e2e-latency.sh`,
/// `QW_E2E_KEEP=1`) showed update 0 of every event as the slowest warning (processor start →
/// issued up to 2.3 ms against ≈ 0.4 ms later), and a perf profile of the daemon showed, on that
/// path, Swift runtime work done once per process (`swift_getTypeByMangledName`, generic metadata
/// instantiation, protocol conformance scans), page faults on fresh memory and lazy symbol
/// binding. All of these are process-wide, so doing them once on synthetic data removes them
/// from the real Alert.
///
/// Nothing of it leaves the process: no sink, file, log line (but the one summary) or metric sees
/// it, the synthetic envelope is never sent, and the live pipeline is not changed
/// (``ReplayPipeline/warmUp()`` works on copies), so the live outputs are those without a warm-up.
struct DaemonWarmUp {
    struct Report: Sendable {
        var pipeline: ReplayPipeline.WarmUpSummary
        /// Synthetic warnings signed and encoded (0 without a signer).
        var signed = 0
        var milliseconds = 0.0
        var problem: String?
    }

    /// - Parameter sign: the daemon's signer (nil: warnings are not signed).
    static func run(pipeline: ReplayPipeline,
                    sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)?) -> Report {
        let start = ContinuousClock.now
        var report = Report(pipeline: pipeline.warmUp())
        if report.pipeline.waveformWarnings + report.pipeline.eventWarnings == 0 {
            report.problem = "the synthetic event issued no warning"
        }
        if let sign {
            do {
                let m = syntheticWarning(pipeline.configuration.quakeWarn)
                try signAndEncode(m, sign: sign)
                report.signed += 1
            } catch {
                report.problem = "signing the synthetic warning failed: \(error)"
            }
        }
        let d = ContinuousClock.now - start
        report.milliseconds = Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
        return report
    }

    /// The daemon's part of a warning's path after the pipeline: signed with the daemon's key
    /// and encoded for the relay hand-off (``InProcessSignedWarning``); the result is discarded.
    static func signAndEncode(_ m: WarningMessage, sign: @Sendable (WarningMessage) throws -> SignedEnvelope) throws {
        _ = try InProcessSignedWarning(message: m, envelope: sign(m))
    }

    /// ``WarningMessage/warmUpSample(id:updateNumber:epicenter:targets:)`` with the configured
    /// targets, at the first station: only signed and encoded, never sent.
    static func syntheticWarning(_ quakeWarn: QuakeWarnConfiguration) -> WarningMessage {
        let station = quakeWarn.stations.first
        return .warmUpSample(id: "qw-warm-up",
                             epicenter: GeoPoint(latitudeDegrees: station?.latitudeDegrees ?? 30,
                                                 longitudeDegrees: station?.longitudeDegrees ?? 105),
                             targets: quakeWarn.targets.map { ($0.name, $0.kind) })
    }
}
