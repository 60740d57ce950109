import Foundation
import MiniSEED
import Picking
import SeismicCore
import SignalProcessing
import TestSupport
import Testing

typealias TSM = TriggerStateMachine
let t0 = Timestamp(nanosecondsSinceEpoch: 1_000_000_000_000)

func onOffPairs(_ events: [TSM.Event]) -> [[Int]] {
    var out: [[Int]] = []
    for e in events {
        switch e {
        case let .triggerOff(on, off, _, _, _), let .forcedOff(on, off, _, _, _): out.append([on, off])
        default: break
        }
    }
    return out
}

func runAll(_ m: inout TSM, _ cf: [Double]) -> [TSM.Event] {
    var ev = m.process(cf)
    if let last = m.finish() { ev.append(last) }
    return ev
}

@Suite("Trigger state machine")
struct TriggerStateMachineTests {
    /// ObsPy-equivalent configuration: no minimum duration, no dead-time amplitude, no max length.
    static let plain = TSM.Configuration(onThreshold: 3.5, offThreshold: 0.5, minimumDurationSamples: 1,
                                          deadTimeSeconds: 0, minimumAmplitudeOffset: 0)

    @Test("plain configuration equals ObsPy trigger_onset (via TriggerOnset) on real STA/LTA CFs",
          arguments: ["obspy_RJOB_20050801_Z", "obspy_UH3_SHZ", "obspy_UH1_SHZ", "obspy_MANZ_waldk", "obspy_CRLZ_HHZ"])
    func equalsTriggerOnsetOnRealData(trace: String) throws {
        let block = try loadTrace(trace)
        let mean = block.samples.reduce(0, +) / Double(block.samples.count)
        let x = block.samples.map { $0 - mean }
        for (sta, lta, on, off) in [(0.5, 10.0, 3.5, 0.5), (5.0, 10.0, 1.2, 0.5), (0.5, 10.0, 2.0, 1.5)] {
            var sl = try RecursiveSTALTA(staSeconds: sta, ltaSeconds: lta, samplingRateHz: block.samplingRateHz)
            let cf = sl.process(x)
            let ref = try TriggerOnset.triggers(in: cf, onThreshold: on, offThreshold: off).map { [$0.onSample, $0.offSample] }
            var cfg = Self.plain
            cfg.onThreshold = on
            cfg.offThreshold = off
            var m = try TSM(cfg, samplingRateHz: block.samplingRateHz, startTime: block.startTime)
            #expect(onOffPairs(runAll(&m, cf)) == ref, "\(trace) \(sta)/\(lta) \(on)/\(off)")
        }
    }

    @Test("plain configuration equals trigger_onset on ObsPy's sine test vector and random CFs")
    func equalsTriggerOnsetSynthetic() throws {
        var cf: [Double] = []
        for k in [1.0, 2.1, 0.4, 1.0] {
            var t = 0.0
            while t < 5 * Double.pi { cf.append(sin(t) + k); t += 0.1 }
        }
        var cfg = Self.plain
        cfg.onThreshold = 1.5
        cfg.offThreshold = 1.0
        var m = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        let ref = try TriggerOnset.triggers(in: cf, onThreshold: 1.5, offThreshold: 1.0).map { [$0.onSample, $0.offSample] }
        #expect(onOffPairs(runAll(&m, cf)) == ref)
        var g = AICNoiseGenerator(state: 77)
        for trial in 0..<200 {
            let n = 20 + g.int(below: 300)
            var level = 1.0
            let r = (0..<n).map { _ in level = max(0, level + g.uniform()); return level }
            let on = 1 + Double(g.int(below: 30)) / 10, off = on * Double(g.int(below: 11)) / 10
            var c = Self.plain
            c.onThreshold = on
            c.offThreshold = off
            var mm = try TSM(c, samplingRateHz: 50, startTime: t0)
            let rr = try TriggerOnset.triggers(in: r, onThreshold: on, offThreshold: off).map { [$0.onSample, $0.offSample] }
            #expect(onOffPairs(runAll(&mm, r)) == rr, "trial \(trial)")
        }
    }

    @Test("minimum duration: short excursions are suppressed, long ones declared late")
    func minimumDuration() throws {
        var cfg = Self.plain
        cfg.minimumDurationSamples = 3
        var m = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        let ev = runAll(&m, [0, 0, 4, 4, 0, 0, 4, 5, 4, 4, 0.2, 0])
        #expect(ev == [
            .suppressed(onSample: 2, atSample: 4, reason: .tooShort(samplesAboveOn: 2)),
            .triggerOn(onSample: 6, declaredSample: 8, onTime: m.time(ofSample: 6), cf: 5),
            .triggerOff(onSample: 6, offSample: 9, onTime: m.time(ofSample: 6), offTime: m.time(ofSample: 9), maximumCF: 5),
        ])
        #expect(m.time(ofSample: 6) == t0.adding(nanoseconds: 60_000_000))
    }

    @Test("dead time: A_trig >= minAmplOffset + A_prev·exp(-(dt/deadTime)^2)")
    func deadTime() throws {
        let cfg = TSM.Configuration(onThreshold: 3.5, offThreshold: 0.5, minimumDurationSamples: 1,
                                    deadTimeSeconds: 30, minimumAmplitudeOffset: 3, amplitudeWindowSeconds: 10)
        var m = try TSM(cfg, samplingRateHz: 1, startTime: t0)  // 1 sample = 1 s
        var cf = [Double](repeating: 0, count: 120)
        cf[0] = 4; cf[1] = 10; cf[2] = 6            // first trigger, amplitude 10, off at 2
        cf[10] = 5; cf[11] = 5                      // dt = 10 s: needs 3 + 10·e^{-1/9} = 11.95
        cf[20] = 4; cf[21] = 8; cf[22] = 13; cf[23] = 2  // dt = 20 s: needs 3 + 10·e^{-4/9} = 9.41
        cf[100] = 3.6                               // dt = 80 s after the pick at 20: needs 3 + 13·e^{-64/9} ≈ 3.011
        let ev = runAll(&m, cf)
        let need10 = 3 + 10 * exp(-(10.0 / 30) * (10.0 / 30))
        #expect(ev == [
            .triggerOn(onSample: 0, declaredSample: 0, onTime: t0, cf: 4),
            .triggerOff(onSample: 0, offSample: 2, onTime: t0, offTime: m.time(ofSample: 2), maximumCF: 10),
            .suppressed(onSample: 10, atSample: 12, reason: .belowDeadTimeAmplitude(required: need10, reached: 5)),
            .triggerOn(onSample: 20, declaredSample: 22, onTime: m.time(ofSample: 20), cf: 13),
            .triggerOff(onSample: 20, offSample: 23, onTime: m.time(ofSample: 20), offTime: m.time(ofSample: 23), maximumCF: 13),
            .triggerOn(onSample: 100, declaredSample: 100, onTime: m.time(ofSample: 100), cf: 3.6),
            .triggerOff(onSample: 100, offSample: 100, onTime: m.time(ofSample: 100), offTime: m.time(ofSample: 100), maximumCF: 3.6),
        ])
        // The previous trigger is now the one at 100 (amplitude 3.6): a candidate right there needs 3 + 3.6.
        #expect(abs(m.requiredAmplitude(forCandidateAt: 100) - 6.6) < 1e-12)
        #expect(abs(m.requiredAmplitude(forCandidateAt: 130) - (3 + 3.6 * exp(-1))) < 1e-12)
    }

    @Test("maximum length forces off; re-arm only after the CF drops below OFF")
    func maximumLength() throws {
        var cfg = Self.plain
        cfg.maximumLengthSamples = 4
        var m = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        let ev = runAll(&m, [0, 5, 5, 5, 5, 5, 5, 5, 0, 5, 0])
        #expect(ev == [
            .triggerOn(onSample: 1, declaredSample: 1, onTime: m.time(ofSample: 1), cf: 5),
            .forcedOff(onSample: 1, offSample: 5, onTime: m.time(ofSample: 1), offTime: m.time(ofSample: 5), maximumCF: 5),
            .triggerOn(onSample: 9, declaredSample: 9, onTime: m.time(ofSample: 9), cf: 5),
            .triggerOff(onSample: 9, offSample: 9, onTime: m.time(ofSample: 9), offTime: m.time(ofSample: 9), maximumCF: 5),
        ])
        // A trigger of exactly maximumLengthSamples is not cut (ObsPy: off - on > max_len).
        var m2 = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        #expect(onOffPairs(runAll(&m2, [0, 5, 5, 5, 5, 5, 0])) == [[1, 5]])
    }

    @Test("events are identical for any chunking", arguments: [1, 7, 100, 4096, -1])
    func chunking(chunk: Int) throws {
        var g = AICNoiseGenerator(state: 123)
        var level = 1.0
        var hold = 0
        let cf = (0..<50_000).map { _ -> Double in
            // ~1 background, decaying spikes (short and dead-time cases), rare 3-s plateaus (max length).
            level = max(0, level * 0.9 + 0.1 + (g.int(below: 200) == 0 ? 20 : 0) + g.uniform() * 0.3)
            if g.int(below: 3000) == 0 { hold = 300 }
            if hold > 0 { hold -= 1; level = max(level, 5) }
            return g.int(below: 300) == 0 ? max(level, 4) : level  // single-sample blips: too short
        }
        let cfg = TSM.Configuration(onThreshold: 3.5, offThreshold: 1.5, minimumDurationSamples: 3,
                                    deadTimeSeconds: 5, minimumAmplitudeOffset: 3, amplitudeWindowSeconds: 2,
                                    maximumLengthSamples: 150)
        var whole = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        let ref = runAll(&whole, cf)
        #expect(ref.count > 50)
        // Every kind of event occurs, so the chunking comparison covers every transition.
        #expect(ref.contains { if case .forcedOff = $0 { true } else { false } })
        #expect(ref.contains { if case .suppressed(_, _, .tooShort) = $0 { true } else { false } })
        #expect(ref.contains { if case .suppressed(_, _, .belowDeadTimeAmplitude) = $0 { true } else { false } })
        var m = try TSM(cfg, samplingRateHz: 100, startTime: t0)
        var got: [TSM.Event] = []
        var i = 0
        var gg = AICNoiseGenerator(state: 5)
        cf.withUnsafeBufferPointer { buf in
            while i < cf.count {
                let n = min(chunk > 0 ? chunk : 1 + gg.int(below: 500), cf.count - i)
                m.process(UnsafeBufferPointer(rebasing: buf[i..<(i + n)])) { got.append($0) }
                i += n
            }
        }
        if let last = m.finish() { got.append(last) }
        #expect(got == ref)
    }

    @Test("retractTrigger restores the previous dead-time reference and can re-arm at once")
    func retract() throws {
        let cfg = TSM.Configuration(onThreshold: 3.5, offThreshold: 0.5, deadTimeSeconds: 30, minimumAmplitudeOffset: 3,
                                    amplitudeWindowSeconds: 10)
        var m = try TSM(cfg, samplingRateHz: 1, startTime: t0)
        _ = m.process([4, 20, 0.1])                       // trigger at 0, amplitude 20
        _ = m.process([Double](repeating: 1, count: 40))  // t = 3 … 42
        let before = m.requiredAmplitude(forCandidateAt: 50)
        #expect(abs(before - (3 + 20 * exp(-(50.0 / 30) * (50.0 / 30)))) < 1e-12)
        let ev = m.process([1000, 900])                   // a glitch trigger at 43 (amplitude 1000)
        #expect(ev.first == .triggerOn(onSample: 43, declaredSample: 43, onTime: m.time(ofSample: 43), cf: 1000))
        #expect(m.isTriggered)
        m.retractTrigger(onSample: 42, rearm: true)        // not the latest trigger: ignored
        #expect(m.isTriggered)
        m.retractTrigger(onSample: 43, rearm: true)
        #expect(!m.isTriggered)
        #expect(m.requiredAmplitude(forCandidateAt: 50) == before)  // back to the trigger at 0
        // Armed again: the next excursion opens a candidate at once (no wait for CF < OFF); it is
        // declared when it reaches 3 + 20·e^{-(45/30)²} ≈ 5.11 (the glitch's 1000 no longer counts).
        #expect(m.process([5]) == [])
        #expect(m.process([1, 6]) == [.triggerOn(onSample: 45, declaredSample: 47, onTime: m.time(ofSample: 45), cf: 6)])
    }

    @Test("invalid configurations throw")
    func validation() {
        #expect(throws: TSM.ConfigurationError.offAboveOn(on: 1, off: 2)) {
            try TSM(.init(onThreshold: 1, offThreshold: 2), samplingRateHz: 100, startTime: t0)
        }
        #expect(throws: TSM.ConfigurationError.nonPositiveSamples(parameter: "minimumDurationSamples", value: 0)) {
            try TSM(.init(minimumDurationSamples: 0), samplingRateHz: 100, startTime: t0)
        }
        #expect(throws: TSM.ConfigurationError.invalidSamplingRate(0)) {
            try TSM(.init(), samplingRateHz: 0, startTime: t0)
        }
        #expect(throws: TSM.ConfigurationError.nonFinite(parameter: "onThreshold", value: .infinity)) {
            try TSM(.init(onThreshold: .infinity), samplingRateHz: 100, startTime: t0)
        }
    }
}
