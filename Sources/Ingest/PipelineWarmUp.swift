// Start-up warm-up of the warning path: a synthetic earthquake through a throwaway copy of the
// pipeline, so that the first real Alert does not pay the process's one-time costs.

import Alerting
import Foundation
import Pipeline
import Relay
import SeismicCore
import Simulation

/// Runs a simulated earthquake near the configured stations through a **separate, discarded**
/// ``ReplayPipeline`` (same station, target and alerting configuration), and signs and encodes
/// its warnings as the daemon would, before the first record is read.
///
/// Why: an EEW daemon is idle almost all the time, and the first warning of an event, the
/// Alert, is the one that matters most. Without a warm-up that Alert runs the picker trigger,
/// the event builder, the locator, the warning predictor, the canonical-JSON writer, Ed25519
/// signing and the outbox commit **for the first time in the process**. The end-to-end traces
/// (`Benchmarks/scripts/e2e-latency.sh`, `QW_E2E_KEEP=1`) showed update 0 of every event as the
/// slowest warning (processor start → issued up to 2.3 ms against ≈ 0.4 ms later), and a perf
/// profile of the daemon showed, on that path, Swift runtime work done once per process
/// (`swift_getTypeByMangledName`, generic metadata instantiation, protocol conformance scans),
/// page faults on fresh memory and lazy symbol binding. All of these are process-wide, so doing
/// them once on synthetic data removes them from the real Alert.
///
/// Nothing of the warm-up leaves the process: its pipeline is dropped, no sink, file, log line
/// or metric sees its records, and the envelopes are signed and encoded but never sent. The live
/// pipeline's state is untouched (a separate value), so the live outputs are exactly those
/// without a warm-up.
///
/// The synthetic event: Mw 5.5 at 10 km depth, 30 km north of the first configured station,
/// simulated by ``ScenarioSimulator`` (its default source) for every configured station, with
/// 12 s of noise before the P wave and records ending 25 s after the origin, fed in 1 s blocks in time
/// order (as SeedLink delivers them). Its counts are rescaled to each station's configured
/// sensitivity. Costs about 0.1 s of CPU in a release build, once at start-up.
struct PipelineWarmUp {
    struct Report: Sendable {
        var blocks = 0
        var picks = 0
        var events = 0
        var warnings = 0
        var milliseconds = 0.0
        var problem: String?
    }

    /// - Parameters:
    ///   - configuration: the live pipeline's configuration (copied, not shared).
    ///   - sign: the daemon's signer (nil: warnings are not signed).
    static func run(configuration: ReplayPipeline.Configuration,
                    sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)?) -> Report {
        let start = ContinuousClock.now
        var report = Report()
        func finished() -> Report {
            let d = ContinuousClock.now - start
            report.milliseconds = Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
            return report
        }
        let blocks: [SampleBlock]
        do {
            blocks = try synthesize(configuration.quakeWarn)
        } catch {
            report.problem = "simulation failed: \(error)"
            return finished()
        }
        var pipeline = ReplayPipeline(configuration)
        var caps: [PendingCAP] = []
        func take(_ r: PipelineRecord, _ cap: PendingCAP?) {
            switch r {
            case .pick: report.picks += 1
            case .event: report.events += 1
            case .warning: report.warnings += 1
            default: break
            }
            if let cap { caps.append(cap) }
        }
        for block in blocks {
            report.blocks += 1
            pipeline.process(block, issued: { m in
                // What Processor.dispatch and the relay sink do on the critical path.
                guard let sign, let envelope = try? sign(m) else { return }
                _ = try? InProcessSignedWarning(message: m, envelope: envelope)
            }, emitDeferringCAP: take)
        }
        for r in pipeline.finish() { take(r, nil) }
        // Off the critical path, but the first CAP rendering should not stall the background queue either.
        for cap in caps { _ = cap.render() }
        if report.warnings == 0 { report.problem = "the synthetic event issued no warning" }
        return finished()
    }

    /// The simulated blocks of every configured station, in counts at the configured
    /// sensitivity and channel codes, cut into 1 s blocks and sorted by start time.
    static func synthesize(_ quakeWarn: QuakeWarnConfiguration) throws -> [SampleBlock] {
        guard let first = quakeWarn.stations.first else { return [] }
        // 30 km north of the first station (1° of latitude ≈ 111.19 km).
        let origin = Timestamp(nanosecondsSinceEpoch: 946_684_800 * 1_000_000_000)  // 2000-01-01T00:00:00Z
        let earthquake = ScenarioEarthquake(momentMagnitude: 5.5, latitudeDegrees: min(89, first.latitudeDegrees + 30 / 111.19),
                                            longitudeDegrees: first.longitudeDegrees, depthKilometers: 10, originTime: origin)
        var blocks: [SampleBlock] = []
        for station in quakeWarn.stations {
            var settings = ScenarioConfiguration()
            settings.samplingRateHz = station.samplingRateHz
            settings.preEventSeconds = 12
            settings.durationAfterOriginSeconds = 25
            let simulator = try ScenarioSimulator(earthquake: earthquake, configuration: settings, seed: 20_080_512)
            let simulated = try simulator.simulate(ScenarioStation(
                network: station.network, station: station.station, location: station.location,
                latitudeDegrees: station.latitudeDegrees, longitudeDegrees: station.longitudeDegrees))
            let scale = station.sensitivityCountsPerMetersPerSecondSquared / simulated.sensitivityCountsPerMetersPerSecondSquared
            for (position, channel) in station.channels.enumerated() {
                let component = switch channel.last {
                case "Z": 0
                case "N", "1": 1
                case "E", "2": 2
                default: min(position, 2)
                }
                guard component < simulated.countBlocks.count else { continue }
                let whole = simulated.countBlocks[component]
                let id = StreamID(network: station.network, station: station.station, location: station.location, channel: channel)
                let perBlock = max(1, Int(whole.samplingRateHz.rounded()))
                var k = 0
                while k < whole.samples.count {
                    let end = min(k + perBlock, whole.samples.count)
                    blocks.append(SampleBlock(streamID: id, startTime: whole.time(ofSample: k), samplingRateHz: whole.samplingRateHz,
                                              unit: whole.unit, samples: whole.samples[k..<end].map { ($0 * scale).rounded() }))
                    k = end
                }
            }
        }
        blocks.sort { ($0.startTime.nanosecondsSinceEpoch, $0.streamID.description) < ($1.startTime.nanosecondsSinceEpoch, $1.streamID.description) }
        return blocks
    }
}
