import Foundation
@_spi(Testing) import Picking
import SeismicCore
import SignalProcessing
import Testing

// The trigger decision path (AIC re-pick and glitch scan) was restructured for speed: the AIC's
// forward and backward Welford passes run in one loop, the re-pick and the glitch scan work in
// caller-provided scratch storage, and the glitch medians are taken in that storage instead of
// temporary arrays. The output must be bit-identical to the straightforward implementation.
// The references below are that straightforward implementation (two separate AIC passes, fresh
// arrays everywhere, medians by full sort), written out here independently of the library, and
// are compared on randomised windows that exercise every rule (spikes, steps, dropouts, clipping,
// flat tops, quantised noise, exact zeros for the ±0 median fallback, NaN).

// MARK: - References

private enum Reference {
    /// Maeda AIC in two passes (forward, then backward adding into the forward values).
    static func aic(_ x: [Double]) -> [Double] {
        let n = x.count
        var aic = [Double](repeating: 0, count: n)
        if n <= 2 { return aic }
        var mean = x[0], m2 = 0.0, count = 1.0
        for i in 1...(n - 2) {
            count += 1
            let delta = x[i] - mean
            mean += delta / count
            m2 += delta * (x[i] - mean)
            aic[i] = count * log(m2 / count)
        }
        mean = x[n - 1]
        m2 = 0
        count = 1
        var i = n - 2
        while i > 0 {
            count += 1
            let delta = x[i] - mean
            mean += delta / count
            m2 += delta * (x[i] - mean)
            aic[i - 1] += (count - 1) * log(m2 / count)
            i -= 1
        }
        aic[n - 1] = aic[n - 2]
        return aic
    }

    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m])
    }

    /// The AIC re-pick with fresh arrays (no filter).
    static func repick(_ samples: [Double], triggerSample t: Int, fs: Double, c: AICRepicker.Configuration)
        -> (index: Int, snr: Double)?
    {
        let n = samples.count
        let pre = Int((c.preTriggerSeconds * fs).rounded()), post = Int((c.postTriggerSeconds * fs).rounded())
        let start = max(0, t - pre), end = min(n - 1, t + post)
        let margin = c.edgeMarginSamples
        guard t - start >= max(margin + 2, 2), end - t >= 1, end - start + 1 >= 2 * margin + 4 else { return nil }
        var noiseMean = 0.0
        for i in start..<t { noiseMean += samples[i] }
        noiseMean /= Double(t - start)
        let window = samples[start...end].map { $0 - noiseMean }
        guard window.contains(where: { $0 != 0 }) else { return nil }
        let aic = aic(window)
        var best: Int?
        var bestValue = Double.infinity
        for i in max(margin, 1)...min(window.count - 1 - margin, window.count - 3) where aic[i].isFinite {
            if best == nil || aic[i] < bestValue {
                best = i
                bestValue = aic[i]
            }
        }
        guard let k = best else { return nil }
        let noiseRMS = (window[0..<k].reduce(0) { $0 + $1 * $1 } / Double(k)).squareRoot()
        let peak = window[k...].reduce(0) { max($0, abs($1)) }
        guard noiseRMS > 0 else { return nil }
        let snr = 0.707 * peak / noiseRMS
        guard snr >= c.minimumSNR else { return nil }
        return (start + k, snr)
    }

    /// The glitch scan with fresh arrays and sort-based medians.
    static func findGlitches(_ x: [Double], raw: [Double], noise: Range<Int>, search: Range<Int>, fs: Double,
                             c: GlitchDetector.Configuration) -> [GlitchDetector.Finding]
    {
        let n = x.count
        guard noise.count >= 10, noise.lowerBound >= 0, noise.upperBound <= n else { return [] }
        let search = max(search.lowerBound, 1)..<min(search.upperBound, n)
        guard !search.isEmpty else { return [] }
        let values = Array(x[noise])
        let med = median(values)
        let sigmaRaw = 1.4826 * median(values.map { abs($0 - med) })
        let diffs = noise.dropFirst().map { abs(x[$0] - x[$0 - 1]) }
        let sigmaDiffRaw = 1.4826 * median(diffs)
        let zeroFraction = diffs.isEmpty ? 0 : Double(diffs.filter { $0 == 0 }.count) / Double(diffs.count)
        let sigma = max(sigmaRaw, Double.leastNormalMagnitude)
        let sigmaDiff = max(sigmaDiffRaw, Double.leastNormalMagnitude)
        var found: [GlitchDetector.Finding] = []
        func overlaps(_ r: Range<Int>) -> Bool { found.contains { $0.range.overlaps(r) } }
        if let clip = c.clipLevel {
            let level = clip * c.clipFraction
            var i = search.lowerBound
            while i < search.upperBound {
                guard abs(raw[i]) >= level else { i += 1; continue }
                var j = i
                while j + 1 < search.upperBound, abs(raw[j + 1]) >= level { j += 1 }
                found.append(.init(kind: .clipping, range: i..<(j + 1)))
                i = j + 1
            }
        }
        var i = search.lowerBound
        while i < search.upperBound {
            var j = i
            while j + 1 < search.upperBound, x[j + 1] == x[i] { j += 1 }
            let r = i..<(j + 1)
            if !overlaps(r) {
                if r.count >= 3, abs(x[i] - med) > c.flatTopFactor * sigma {
                    found.append(.init(kind: .clipping, range: r))
                } else if r.count >= c.dropoutMinimumSamples, zeroFraction < 0.2 {
                    found.append(.init(kind: .dropout, range: r))
                }
            }
            i = j + 1
        }
        for j in search where j >= 1 {
            for w in 1...2 where j + w < n {
                let r = j..<(j + w)
                if overlaps(r) { continue }
                let a = x[j - 1], b = x[j + w]
                var minDev = Double.infinity, sign = 0.0, ok = true
                for k in 0..<w {
                    let d = x[j + k] - (a + (b - a) * Double(k + 1) / Double(w + 1))
                    if sign == 0 { sign = d < 0 ? -1 : 1 } else if d * sign <= 0 { ok = false }
                    minDev = min(minDev, abs(d))
                }
                guard ok, minDev > c.spikeFactor * sigmaDiff, abs(b - a) < 0.25 * minDev else { continue }
                var ctx = 0.0
                for k in max(1, j - 10)...min(n - 1, j + w + 10) where k < j || k > j + w {
                    ctx = max(ctx, abs(x[k] - x[k - 1]))
                }
                if minDev > c.spikeContextFactor * ctx {
                    found.append(.init(kind: .spike, range: r))
                    break
                }
            }
        }
        let half = max(3, Int((c.stepWindowSeconds * fs).rounded()))
        var lastStep = -half
        for j in search where j - lastStep >= half {
            guard abs(x[j] - x[j - 1]) > c.stepFactor * sigmaDiff else { continue }
            let pre = Array(x[max(0, j - half)..<j]), post = Array(x[j..<min(n, j + half)])
            guard pre.count >= 3, post.count >= 3 else { continue }
            let m1 = median(pre), m2 = median(post)
            guard abs(m2 - m1) > c.stepFactor * sigma else { continue }
            let s1 = 1.4826 * median(pre.map { abs($0 - m1) }), s2 = 1.4826 * median(post.map { abs($0 - m2) })
            guard s1 < c.stepQuietFactor * sigma, s2 < c.stepQuietFactor * sigma else { continue }
            if overlaps(max(0, j - half)..<min(n, j + half)) { continue }
            found.append(.init(kind: .step, range: j..<(j + 1), shift: m2 - m1))
            lastStep = j
        }
        return found.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}

// MARK: - Corpus

/// A window of noise with a random mix of the glitches and signals the decision path handles.
private func corpusWindow(_ rng: inout SplitMix64, length n: Int) -> [Double] {
    let style = Int.random(in: 0..<4, using: &rng)
    var x: [Double] = (0..<n).map { _ in
        switch style {
        case 0: return 1000 * rng.nextStandardNormal()
        case 1: return (3 * rng.nextStandardNormal()).rounded()  // coarse quantisation, exact ±0
        case 2: return 0.0 * rng.nextStandardNormal()  // zeros, some of them −0
        default: return 1e-3 * rng.nextStandardNormal() + 5e6
        }
    }
    let scale = style == 0 ? 1000.0 : (style == 3 ? 1e-3 : 3.0)
    for _ in 0..<Int.random(in: 0...4, using: &rng) {
        let at = Int.random(in: 1..<n, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: x[at] += 50 * scale * (rng.nextUniform() < 0.5 ? -1 : 1)  // spike
        case 1: for i in at..<n { x[i] += 40 * scale }  // step
        case 2: for i in at..<min(n, at + 15) { x[i] = x[at] }  // dropout / flat top
        case 3: for i in at..<min(n, at + 5) { x[i] = 8_388_608 }  // at the clip level
        case 4:  // onset: a decaying 6 Hz burst
            for i in at..<n { x[i] += 30 * scale * exp(-Double(i - at) / 200) * sin(0.377 * Double(i - at)) }
        case 5: x[at] = .nan
        default: for i in at..<min(n, at + 12) { x[i] = x[at] + 60 * scale }  // far flat run
        }
    }
    return x
}

private func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

// MARK: - Tests

@Suite("Decision path: bit-identical to the straightforward implementation")
struct DecisionPathTests {
    @Test("Maeda AIC in one interleaved loop equals the two-pass form bit for bit")
    func aicBitIdentical() {
        var rng = SplitMix64(seed: 0xA1C)
        var compared = 0
        for trial in 0..<600 {
            let n = trial < 40 ? trial : Int.random(in: 3...400, using: &rng)
            let x = n == 0 ? [] : corpusWindow(&rng, length: max(n, 2)).prefix(n).map { $0 }
            let got = MaedaAIC.compute(x), want = Reference.aic(x)
            #expect(bits(got) == bits(want), "n = \(n), trial \(trial)")
            // Into a dirty buffer: every element must be written, none accumulated onto old contents.
            var dirty = [Double](repeating: 12345.678, count: n + 3)
            x.withUnsafeBufferPointer { xin in dirty.withUnsafeMutableBufferPointer { MaedaAIC.compute(xin, into: $0) } }
            #expect(bits(Array(dirty.prefix(n))) == bits(want), "dirty buffer, n = \(n), trial \(trial)")
            compared += 1
        }
        #expect(compared == 600)
    }

    @Test("glitch scan with scratch storage equals the array-and-sort reference")
    func glitchScanIdentical() {
        var rng = SplitMix64(seed: 0x611C)
        var withFindings = 0
        var kinds = Set<GlitchDetector.Kind>()
        for trial in 0..<1500 {
            let n = Int.random(in: 20...450, using: &rng)
            let x = corpusWindow(&rng, length: n)
            let noiseEnd = Int.random(in: 5...(n - 5), using: &rng)
            let search = noiseEnd..<Int.random(in: noiseEnd...(n + 3), using: &rng)
            let c = GlitchDetector.Configuration(clipLevel: trial % 3 == 0 ? nil : 8_388_608)
            let got = x.withUnsafeBufferPointer {
                GlitchDetector.findGlitches(in: $0, raw: $0, noise: 0..<noiseEnd, search: search,
                                            samplingRateHz: 100, configuration: c)
            }
            let want = Reference.findGlitches(x, raw: x, noise: 0..<noiseEnd, search: search, fs: 100, c: c)
            #expect(got == want, "trial \(trial)")
            #expect(got.map(\.shift.bitPattern) == want.map(\.shift.bitPattern), "trial \(trial)")
            if !want.isEmpty { withFindings += 1 }
            kinds.formUnion(want.map(\.kind))
        }
        // The corpus exercises every rule.
        #expect(withFindings > 300)
        #expect(kinds == Set(GlitchDetector.Kind.allCases))
    }

    @Test("median in scratch storage equals the sorted median, including ±0 and NaN")
    func scratchMedian() {
        var rng = SplitMix64(seed: 0x3ED)
        var scratch = [Double](repeating: 0, count: 64)
        for _ in 0..<2000 {
            let n = Int.random(in: 0...64, using: &rng)
            let v: [Double] = (0..<n).map { _ in
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: return 0
                case 1: return -0.0
                case 2: return rng.nextUniform() < 0.05 ? .nan : 1
                default: return (4 * rng.nextStandardNormal()).rounded()
                }
            }
            let got = scratch.withUnsafeMutableBufferPointer { s in
                GlitchDetector.median(count: n, scratch: s) { b in for i in b.indices { b[i] = v[i] } }
            }
            let want = GlitchDetector.median(v)
            #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "\(v)")
            if !v.contains(where: \.isNaN) { #expect(got.bitPattern == Reference.median(v).bitPattern, "\(v)") }
        }
    }

    @Test("AIC re-pick with scratch storage equals the array reference; scratch reuse does not matter")
    func repickIdentical() throws {
        var rng = SplitMix64(seed: 0x9E91C)
        let c = AICRepicker.Configuration()
        let picker = try AICRepicker(c)
        var scratch: [Double] = []  // reused, dirty, across calls
        var picks = 0
        for trial in 0..<800 {
            let n = Int.random(in: 30...420, using: &rng)
            let x = corpusWindow(&rng, length: n).map { $0.isNaN ? 0 : $0 }
            let t = Int.random(in: 0..<n, using: &rng)
            let fresh = x.withUnsafeBufferPointer {
                picker.repick(samples: $0, startTime: Timestamp(nanosecondsSinceEpoch: 0), samplingRateHz: 100,
                              triggerSample: t)
            }
            let reused = x.withUnsafeBufferPointer {
                picker.repick(samples: $0, startTime: Timestamp(nanosecondsSinceEpoch: 0), samplingRateHz: 100,
                              triggerSample: t, scratch: &scratch)
            }
            #expect(fresh == reused, "trial \(trial)")
            let want = Reference.repick(x, triggerSample: t, fs: 100, c: c)
            switch fresh {
            case .success(let r):
                picks += 1
                #expect(r.sampleIndex == want?.index, "trial \(trial)")
                #expect(r.snr.bitPattern == want?.snr.bitPattern, "trial \(trial)")
            case .failure:
                #expect(want == nil, "trial \(trial)")
            }
        }
        #expect(picks > 100)
    }

    @Test("re-pick with a re-picker filter: scratch storage equals a fresh array")
    func repickWithFilterIdentical() throws {
        var rng = SplitMix64(seed: 0xF17)
        let picker = try AICRepicker(.init(filter: .bandpass(lowHz: 1, highHz: 20)))
        var scratch = [Double](repeating: .nan, count: 10)
        for _ in 0..<200 {
            let n = Int.random(in: 100...900, using: &rng)
            let x = corpusWindow(&rng, length: n).map { $0.isNaN ? 0 : $0 }
            let t = Int.random(in: 0..<n, using: &rng)
            let a = x.withUnsafeBufferPointer {
                picker.repick(samples: $0, startTime: Timestamp(nanosecondsSinceEpoch: 0), samplingRateHz: 100,
                              triggerSample: t)
            }
            let b = x.withUnsafeBufferPointer {
                picker.repick(samples: $0, startTime: Timestamp(nanosecondsSinceEpoch: 0), samplingRateHz: 100,
                              triggerSample: t, scratch: &scratch)
            }
            #expect(a == b)
        }
    }

    @Test("trigger decisions (picks and glitch rejections) keep the picker's decision scratch storage")
    func decisionsDoNotGrowScratch() throws {
        let fs = 100.0
        let id = StreamID(network: "SC", station: "DPATH", location: "00", channel: "HNZ")
        var picker = try GlitchRejectingPicker(streamID: id, samplingRateHz: fs)
        let reference = picker.decisionScratchFingerprint
        var rng = SplitMix64(seed: 0xDEC)
        var time = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        var picks = 0, rejections = 0, changed = 0
        var sample = 0
        for _ in 0..<1500 {
            var block = [Double](repeating: 0, count: 100)
            for k in 0..<100 {
                let s = sample + k
                var v = 1000 * rng.nextStandardNormal()
                let t = Double(s % 12_000) / fs - 60  // an event at 60 s of every 120 s
                if t >= 0 { v += 20_000 * exp(-t / 4) * sin(2 * .pi * 6 * t) }
                if s % 12_000 == 3_000 { v += 200_000 }  // a spike at 30 s
                if s % 12_000 >= 9_000 { v += 30_000 }  // a step at 90 s
                block[k] = v
            }
            sample += 100
            let b = SampleBlock(streamID: id, startTime: time, samplingRateHz: fs, samples: block)
            time = b.endTimeExclusive
            for out in picker.process(b) {
                switch out {
                case .pick: picks += 1
                case .rejected: rejections += 1
                case .reset: break
                }
            }
            if picker.decisionScratchFingerprint != reference { changed += 1 }
        }
        #expect(picks >= 10)
        #expect(rejections >= 10)
        #expect(changed == 0)
    }
}
