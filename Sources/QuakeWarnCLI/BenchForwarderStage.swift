import Alerting
import Foundation
import Relay
import SeismicCore

/// The forwarder stage of the latency budget (design.md: outbox append + publish ≤ 500 µs), as far
/// as it runs without a broker: one signed warning line through the relay's input work —
/// Ed25519 verification and decode (`RelayVerifier`), then the durable outbox append (one SQLite
/// WAL transaction, `synchronous = NORMAL`, in a temporary directory). The MQTT publish to the
/// broker socket is measured against a real broker by `quakewarn relay bench` (its
/// "outbox append" and "input → subscriber" rows) and end to end by
/// `Benchmarks/scripts/e2e-latency.sh`.
extension BenchCommand {
    static func forwarderStage(packets: Int) throws -> StageResult {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("quakewarn-bench-forwarder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try SigningKeyFile.generate(into: directory + "/keys")
        let key = try SigningKeyFile.loadPrivateKey(path: keys.privateKey)
        let verifier = try RelayVerifier.load(publicKeyFiles: [keys.publicKey])
        let outbox = try RelayOutbox(path: directory + "/outbox.sqlite")
        defer { try? outbox.close() }

        let created = Timestamp(nanosecondsSinceEpoch: 1_780_000_000_000_000_000)
        let target = TargetPrediction(name: "Lezhi county seat", kind: .countySeat, epicentralDistanceKilometers: 75,
                                      predictedIntensity: 5.6, predictedIntensitySigma: 0.6,
                                      sWaveArrivalTime: created.adding(nanoseconds: 12_000_000_000), countdownSeconds: 12,
                                      warningLevel: .orange)
        let warmup = 100
        var lines: [Data] = []
        lines.reserveCapacity(packets + warmup)
        for i in 0..<(packets + warmup) {
            let message = WarningMessage(
                id: "bench-\(i / 8)", updateNumber: i % 8, status: .exercise, msgType: i % 8 == 0 ? .alert : .update,
                originTime: created.adding(nanoseconds: -10_000_000_000),
                epicenter: GeoPoint(latitudeDegrees: 30.6, longitudeDegrees: 104.4), depthKilometers: 10,
                magnitude: 5.8, magnitudeUncertainty: 0.4, magnitudeType: "Mpd", numberOfStations: 2,
                targets: [target], createdTime: created.adding(nanoseconds: Int64(i) * 500_000_000))
            lines.append(try SignedEnvelope.sign(message, with: key).encoded())
        }
        var samples: [Double] = []
        samples.reserveCapacity(packets)
        for (i, line) in lines.enumerated() {
            let start = ContinuousClock.now
            let input: VerifiedInput
            switch verifier.verify(line: line) {
            case .success(let verified): input = verified
            case .failure(let rejection): throw BenchError("forwarder stage: own warning rejected: \(rejection)")
            }
            _ = try outbox.append(kind: input.kind, eventId: input.eventId, updateNumber: input.updateNumber,
                                  status: input.status, level: input.level, envelope: input.envelopeBytes,
                                  receivedAt: Timestamp.wallClockNow())
            let us = elapsedMicroseconds(since: start)
            if i >= warmup { samples.append(us) }
        }
        return StageResult(name: "forwarder: verify + outbox append (publish: relay bench)", budgetMicroseconds: 500,
                           samples: samples)
    }
}
