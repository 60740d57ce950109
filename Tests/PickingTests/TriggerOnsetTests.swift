import SeismicCore
import TestSupport
import Foundation
import Testing
import Picking

/// Independent twin: a direct Swift transcription of the *list algorithm* of ObsPy 1.5.1's
/// `trigger_onset` (index lists of samples above each threshold, run starts/ends, then the
/// on/off pairing loop with double-ended queues), used to check the streaming state machine.
/// Returns nil where ObsPy itself raises (no sample ≥ off; or the 1e99 sentinel with delete and
/// no max_len).
private func obspyListAlgorithm(_ cf: [Double], on thres1: Double, off thres2: Double,
                                maxLen: Int?, delete: Bool) -> [[Int]]? {
    let ind1 = cf.indices.filter { cf[$0] >= thres1 }
    if ind1.isEmpty { return [] }
    let ind2 = cf.indices.filter { cf[$0] >= thres2 }
    guard let lastInd2 = ind2.last, let firstInd1 = ind1.first else { return nil }
    let sentinel = Int.max / 4  // stands for ObsPy's 1e99
    var onQ: [Int] = [firstInd1]
    var ofQ: [Int] = [-1]
    for k in ind2.indices where k == ind2.count - 1 || ind2[k + 1] - ind2[k] > 1 { ofQ.append(ind2[k]) }
    for k in 1..<ind1.count where ind1[k] - ind1[k - 1] > 1 { onQ.append(ind1[k]) }
    if delete {
        ofQ.append(sentinel)
        onQ.append(onQ[onQ.count - 1])
    } else {
        ofQ.append(lastInd2)
    }
    ofQ.append(cf.count)
    let limit = maxLen ?? Int.max / 2
    var picks: [[Int]] = []
    var onHead = 0
    while onQ[onQ.count - 1] > ofQ[0] {
        while onQ[onHead] <= ofQ[0] { onHead += 1 }
        while ofQ[0] < onQ[onHead] { ofQ.removeFirst() }
        if ofQ[0] - onQ[onHead] > limit {
            if delete {
                onHead += 1
                if onHead >= onQ.count { break }
                continue
            }
            ofQ.insert(onQ[onHead] + limit, at: 0)
        }
        if ofQ[0] == sentinel { return nil }  // ObsPy: OverflowError converting 1e99 to int64
        picks.append([onQ[onHead], ofQ[0]])
    }
    return picks
}

private func pairs(_ triggers: [TriggerOnset.Trigger]) -> [[Int]] { triggers.map { [$0.onSample, $0.offSample] } }

/// The CF of ObsPy's own test (tests/test_trigger.py): sin(arange(0, 5π, 0.1)) + k, k = 1, 2.1, 0.4, 1.
private func obspyTestVector() -> [Double] {
    let n = Int((5 * Double.pi / 0.1).rounded(.up))  // len(np.arange(0, 5π, 0.1)) = 158
    var cf: [Double] = []
    for k in [1.0, 2.1, 0.4, 1.0] {
        for i in 0..<n { cf.append(sin(Double(i) * 0.1) + k) }
    }
    return cf
}

@Suite("trigger_onset")
struct TriggerOnsetTests {
    @Test("ObsPy's test vector: thresholds 1.5/1.0, max_len 50, with and without delete")
    func obspyTestVectorResults() throws {
        let cf = obspyTestVector()
        #expect(cf.count == 632)
        let cut = try TriggerOnset.triggers(in: cf, onThreshold: 1.5, offThreshold: 1.0, maxLengthSamples: 50)
        #expect(pairs(cut) == [[6, 31], [69, 94], [131, 181], [215, 265], [278, 315], [480, 505], [543, 568], [605, 631]])
        let deleted = try TriggerOnset.triggers(in: cf, onThreshold: 1.5, offThreshold: 1.0, maxLengthSamples: 50,
                                                deleteLongTriggers: true)
        #expect(pairs(deleted) == [[6, 31], [69, 94], [480, 505], [543, 568], [605, 631]])
    }

    /// Expected values computed with ObsPy 1.5.1 (`trigger_onset`) in the dev venv.
    @Test("edge cases agree with ObsPy 1.5.1", arguments: [
        ([0, 2, 2, 1, 0, 0, 2, 0], 1.5, 0.5, nil, false, [[1, 3], [6, 6]]),
        ([2, 2, 2, 2], 1.5, 0.5, nil, false, [[0, 3]]),  // still on at the end: closes at n-1
        ([0, 2, 0.7, 2, 0.7, 0.2, 2], 1.5, 0.5, nil, false, [[1, 4], [6, 6]]),  // OFF = last sample >= off
        ([0, 2, 1, 1, 1, 1, 1, 1, 2, 1, 0], 1.5, 0.5, 3, false, [[1, 4], [8, 9]]),  // cut, new ON after the cut
        ([0, 2, 1, 1, 1, 1, 1, 1, 2, 1, 0], 1.5, 0.5, 3, true, []),  // deleted, ON at 8 inside it ignored
        ([0, 2, 1, 1, 1, 1, 1, 1, 2, 1, 0, 2, 0], 1.5, 0.5, 3, true, [[11, 11]]),
        ([0, 2, 0, 0, 3, 3, 0], 1.5, 2.5, nil, false, [[1, 5]]),  // off > on: OFF is the next run end of cf >= off
        ([0, 2, 0, 0], 1.5, 0.1, 0, false, [[1, 1]]),
        ([1.5, 0.5, 0.49, 1.5], 1.5, 0.5, nil, false, [[0, 1], [3, 3]]),  // >= on both thresholds
        ([0, .nan, 2, .nan, 2, 0], 1.5, 0.5, nil, false, [[2, 2], [4, 4]]),  // NaN counts as below
    ] as [([Double], Double, Double, Int?, Bool, [[Int]])])
    func edgeCases(cf: [Double], on: Double, off: Double, maxLen: Int?, delete: Bool, expected: [[Int]]) throws {
        let got = try TriggerOnset.triggers(in: cf, onThreshold: on, offThreshold: off, maxLengthSamples: maxLen,
                                            deleteLongTriggers: delete)
        #expect(pairs(got) == expected)
        #expect(obspyListAlgorithm(cf, on: on, off: off, maxLen: maxLen, delete: delete) == expected,
                "the list-algorithm twin itself must reproduce ObsPy")
    }

    @Test("matches the ObsPy list-algorithm twin on 6000 random CFs, in random chunkings")
    func randomAgainstTwin() throws {
        var rng = SplitMix64(seed: 2026)
        let thresholds: [Double] = [0.5, 1.0, 1.5, 2.0, 2.5]
        var compared = 0
        for trial in 0..<6000 {
            let n = Int.random(in: 1...150, using: &rng)
            var cf: [Double]
            switch trial % 3 {
            case 0: cf = (0..<n).map { _ in Double.random(in: 0..<3, using: &rng) }
            case 1: cf = (0..<n).map { _ in Double(Int.random(in: 0...5, using: &rng)) / 2 }  // ties with thresholds
            default:
                var level = 1.5
                cf = (0..<n).map { _ in level += 0.3 * rng.normal(); return level }
            }
            let on = thresholds.randomElement(using: &rng) ?? 1.5
            let off = thresholds.randomElement(using: &rng) ?? 0.5
            let maxLen: Int? = Bool.random(using: &rng) ? nil : Int.random(in: 0...30, using: &rng)
            let delete = Bool.random(using: &rng)
            guard let expected = obspyListAlgorithm(cf, on: on, off: off, maxLen: maxLen, delete: delete) else { continue }
            let detector = try TriggerOnset(onThreshold: on, offThreshold: off, maxLengthSamples: maxLen,
                                            deleteLongTriggers: delete)
            let whole = pairs(triggersChunked(detector, cf, sizes: [n]))
            let chunked = pairs(triggersChunked(detector, cf, sizes: randomChunks(total: n, maxSize: 9,
                                                                                   seed: UInt64(trial))))
            #expect(whole == expected, "cf=\(cf) on=\(on) off=\(off) maxLen=\(String(describing: maxLen)) delete=\(delete)")
            #expect(chunked == expected)
            compared += 1
        }
        #expect(compared > 5000)
    }

    @Test("triggers are emitted as soon as decided: one sample after OFF, or when cut")
    func emissionLatency() throws {
        var d = try TriggerOnset(onThreshold: 1.5, offThreshold: 0.5)
        #expect(d.process([0, 2, 1]).isEmpty)
        #expect(d.isTriggered)
        #expect(pairs(d.process([0.1])) == [[1, 2]])  // OFF = sample 2, decided at sample 3
        #expect(!d.isTriggered)
        var cut = try TriggerOnset(onThreshold: 1.5, offThreshold: 0.5, maxLengthSamples: 2)
        #expect(cut.process([0, 2, 1, 1]).isEmpty)
        #expect(pairs(cut.process([1])) == [[1, 3]])  // sample 4 > 1 + 2: cut decided there
        #expect(cut.finish() == nil)
    }

    @Test("finish() closes an open trigger at n-1 and resets the detector")
    func finishResets() throws {
        var d = try TriggerOnset(onThreshold: 1.5, offThreshold: 0.5)
        _ = d.process([0, 0, 3, 3])
        #expect(d.finish() == TriggerOnset.Trigger(onSample: 2, offSample: 3))
        #expect(d.processedSampleCount == 0)
        #expect(pairs(d.process([3, 0])) == [[0, 0]])
    }

    @Test("invalid thresholds and lengths throw")
    func invalidParameters() {
        #expect(throws: STALTAParameterError.self) { try TriggerOnset(onThreshold: .nan, offThreshold: 1) }
        #expect(throws: STALTAParameterError.invalidThreshold(parameter: "off", value: .infinity)) {
            try TriggerOnset(onThreshold: 1, offThreshold: .infinity)
        }
        #expect(throws: STALTAParameterError.negativeMaximumLength(samples: -1)) {
            try TriggerOnset(onThreshold: 1, offThreshold: 0.5, maxLengthSamples: -1)
        }
    }
}
