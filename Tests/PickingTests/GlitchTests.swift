import Foundation
import MiniSEED
import Picking
import SeismicCore
import SignalProcessing
import TestSupport
import Testing

private func rms(_ x: ArraySlice<Double>) -> Double {
    let m = x.reduce(0, +) / Double(x.count)
    return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)).squareRoot()
}

private func findings(_ x: [Double], noise: Range<Int>, search: Range<Int>, fs: Double = 100,
                      _ c: GlitchDetector.Configuration = .init()) -> [GlitchDetector.Finding]
{
    x.withUnsafeBufferPointer { b in
        GlitchDetector.findGlitches(in: b, raw: b, noise: noise, search: search, samplingRateHz: fs, configuration: c)
    }
}

private func gaussianish(_ n: Int, seed: UInt64, scale: Double = 10) -> [Double] {
    var g = AICNoiseGenerator(state: seed)
    // Sum of 4 uniforms: bell-shaped, bounded.
    return (0..<n).map { _ in (g.uniform() + g.uniform() + g.uniform() + g.uniform()) * scale }
}

@Suite("Glitch detector")
struct GlitchDetectorTests {
    @Test("spike, double spike, step, dropout, flat top and clip level are found and repaired")
    func findsEachKind() {
        let base = gaussianish(600, seed: 1)
        var x = base
        x[400] += 2000
        #expect(findings(x, noise: 0..<300, search: 300..<600).map(\.kind) == [.spike])
        x = base
        x[400] -= 1500; x[401] -= 1400
        let f2 = findings(x, noise: 0..<300, search: 300..<600)
        #expect(f2 == [GlitchDetector.Finding(kind: .spike, range: 400..<402)])
        x.withUnsafeMutableBufferPointer { _ = GlitchDetector.repair($0, findings: f2, samplingRateHz: 100, configuration: .init()) }
        #expect(abs(x[400]) < 100 && abs(x[401]) < 100)
        x = base
        for i in 400..<600 { x[i] += 3000 }
        let f3 = findings(x, noise: 0..<300, search: 300..<600)
        #expect(f3.count == 1 && f3.first?.kind == .step && f3.first?.range == 400..<401)
        #expect(abs((f3.first?.shift ?? 0) - 3000) < 100)
        x = base
        for i in 400..<450 { x[i] = 0 }
        #expect(findings(x, noise: 0..<300, search: 300..<600).map(\.kind).contains(.dropout))
        x = base
        for i in 400..<405 { x[i] = 5000 }
        #expect(findings(x, noise: 0..<300, search: 300..<600).first?.kind == .clipping)
        x = base
        x[420] = 8_388_607
        x[421] = 8_388_607
        #expect(findings(x, noise: 0..<300, search: 300..<600).first?.kind == .clipping)
    }

    @Test("no findings on clean noise, on a 25 Hz (fs/4) sinusoid, or on an emergent oscillating onset")
    func noFalseFindings() {
        let noise = gaussianish(600, seed: 2)
        #expect(findings(noise, noise: 0..<300, search: 300..<600).isEmpty)
        var s = noise
        for i in 400..<600 { s[i] += 3000 * sin(Double.pi / 2 * Double(i)) }  // fs/4 at 100 sps
        #expect(!findings(s, noise: 0..<300, search: 300..<600).contains { $0.kind == .spike })
        var q = noise
        for i in 400..<600 {
            let t = Double(i - 400) / 100
            q[i] += 5000 * min(1, t * 4) * sin(2 * Double.pi * 6 * t)
        }
        #expect(findings(q, noise: 0..<300, search: 300..<600).isEmpty)
    }
}

@Suite("Glitch-rejecting picker on real records")
struct GlitchRejectingPickerTests {
    static let rjobP = 30.635
    static let uh3P = 29.44

    func run(_ block: SampleBlock, chunk: Int = 1000, configuration: GlitchRejectingPicker.Configuration = .init())
        throws -> [GlitchRejectingPicker.Output]
    {
        var p = try GlitchRejectingPicker(configuration, streamID: block.streamID, samplingRateHz: block.samplingRateHz)
        var out: [GlitchRejectingPicker.Output] = []
        var g = AICNoiseGenerator(state: 17)
        var i = 0
        while i < block.samples.count {
            let n = min(chunk > 0 ? chunk : 1 + g.int(below: 700), block.samples.count - i)
            var b = block
            b.startTime = block.time(ofSample: i)
            b.samples = Array(block.samples[i..<(i + n)])
            out += p.process(b)
            i += n
        }
        return out + p.finish()
    }

    func picks(_ out: [GlitchRejectingPicker.Output]) -> [GlitchRejectingPicker.Pick] {
        out.compactMap { if case .pick(let p) = $0 { p } else { nil } }
    }

    /// Glitches injected into the pre-event noise at `at` (sample index); σ = noise rms.
    static func inject(_ kind: String, into x: inout [Double], at j: Int, sigma: Double, rail: Double) {
        switch kind {
        case "spike": x[j] += 1000 * sigma
        case "spike2": x[j] -= 800 * sigma; x[j + 1] -= 700 * sigma
        case "step": for i in j..<x.count { x[i] += 300 * sigma }
        case "calibration": for i in j..<(j + 400) { x[i] += 300 * sigma }
        case "dropout-zero": for i in j..<(j + 400) { x[i] = 0 }
        case "dropout-hold": for i in j..<(j + 400) { x[i] = x[j - 1] }
        case "clip-rail": for i in j..<(j + 40) { x[i] = rail }
        case "spike-train": for k in 0..<5 { x[j + 200 * k] += (k % 2 == 0 ? 1 : -1) * 600 * sigma }
        default: Issue.record("unknown glitch \(kind)")
        }
    }

    @Test("clean records: RJOB and UH3 pick their P within 0.05 s of ObsPy ar_pick")
    func cleanRecords() throws {
        let rjob = try loadTrace("obspy_RJOB_20050801_Z")
        let pr = picks(try run(rjob))
        #expect(pr.count == 1)
        #expect(pr.contains { abs($0.time.seconds(since: rjob.startTime) - Self.rjobP) <= 0.05 })
        let uh3 = try loadTrace("obspy_UH3_SHZ")
        let pu = picks(try run(uh3))
        #expect(pu.contains { abs($0.time.seconds(since: uh3.startTime) - Self.uh3P) <= 0.05 })
    }

    @Test("each glitch in RJOB's pre-event noise gives no pick; the P is still picked",
          arguments: ["spike", "spike2", "step", "calibration", "dropout-zero", "dropout-hold", "clip-rail", "spike-train"])
    func rjobGlitches(kind: String) throws {
        var block = try loadTrace("obspy_RJOB_20050801_Z")
        let sigma = rms(block.samples[0..<2000])
        let rail = 2000 * sigma
        Self.inject(kind, into: &block.samples, at: 3000, sigma: sigma, rail: rail)  // 15 s
        var cfg = GlitchRejectingPicker.Configuration()
        cfg.glitch.clipLevel = rail  // float data in unknown units: configure the full scale
        let out = try run(block, configuration: cfg)
        let p = picks(out)
        #expect(p.count == 1, "\(kind): \(p.map { $0.time.seconds(since: block.startTime) }) \(out)")
        #expect(p.allSatisfy { abs($0.time.seconds(since: block.startTime) - Self.rjobP) <= 0.05 }, "\(kind)")
        // The glitch did trigger and was rejected as a glitch (it was not simply invisible). A
        // dropout in this nearly zero-mean record only lowers the CF, so it does not trigger.
        let rejectedGlitch = out.contains { if case .rejected(let r) = $0, case .glitch = r.reason { true } else { false } }
        #expect(rejectedGlitch || kind.hasPrefix("dropout"), "\(kind): \(out)")
    }

    @Test("UH3 (counts, DC offset): 24-bit rail, zero-fill dropout, spike, calibration pulse give no extra picks",
          arguments: ["rail", "dropout-zero", "spike", "calibration"])
    func uh3Glitches(kind: String) throws {
        var block = try loadTrace("obspy_UH3_SHZ")
        let clean = picks(try run(block)).map(\.sampleIndex)
        // UH3's events: 29.44 s (ar_pick P) and the tutorial's coincidence events at 16:27:01 and 16:27:30.
        #expect(clean.count == 4)
        let sigma = rms(block.samples[2500..<3500])
        let j = 5000  // 100 s after the start, in the noise between events
        switch kind {
        case "rail": for i in j..<(j + 10) { block.samples[i] = 8_388_607 }  // 0.2 s at full scale
        case "dropout-zero":
            // A digitizer with a DC offset of 20000 counts (harmless by itself: the picker removes
            // the first sample) drops to zero for 2 s: two 20000-count edges.
            for i in block.samples.indices { block.samples[i] += 20_000 }
            for i in j..<(j + 100) { block.samples[i] = 0 }
        case "spike": block.samples[j] += 1000 * sigma
        default: for i in j..<(j + 100) { block.samples[i] += 300 * sigma }
        }
        let out = try run(block)
        #expect(picks(out).map(\.sampleIndex) == clean, "\(kind): \(out)")
        let rejectedGlitch = out.contains { if case .rejected(let r) = $0, case .glitch = r.reason { true } else { false } }
        #expect(rejectedGlitch, "\(kind)")
    }

    @Test("no real record's trigger is taken for a glitch (22 fixture traces at >= 45 sps)")
    func noGlitchesInRealEvents() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("mseed"))
            .filter { $0.hasSuffix(".mseed") }.sorted()
        var checked = 0, totalPicks = 0
        for n in names {
            let block = try loadTrace(String(n.dropLast(6)))
            guard block.samplingRateHz >= 45 else { continue }  // the 1–20 Hz band needs fs > 40 Hz
            checked += 1
            for o in try run(block) {
                switch o {
                case .pick(let p):
                    totalPicks += 1
                    #expect(p.repairedGlitches.isEmpty, "\(n): \(p)")
                case .rejected(let r):
                    if case .glitch = r.reason { Issue.record("\(n): real trigger rejected as glitch \(r)") }
                case .reset: Issue.record("\(n): unexpected reset")
                }
            }
        }
        #expect(checked == 22)
        #expect(totalPicks >= 25)
    }

    @Test("a gap resets the picker, never picks at the gap edge, and the P after it is picked")
    func gap() throws {
        let z = try loadTrace("obspy_RJOB_20050801_Z")
        var p = try GlitchRejectingPicker(streamID: z.streamID, samplingRateHz: z.samplingRateHz)
        var a = z
        a.samples = Array(z.samples[0..<3000])
        var b = z
        b.startTime = z.time(ofSample: 3600)  // 3 s missing (15 s … 18 s)
        // A big offset jump across the gap (e.g. a restarted digitizer).
        let jump = 500 * rms(z.samples[0..<2000])
        b.samples = z.samples[3600...].map { $0 + jump }
        var out = p.process(a)
        out += p.process(b)
        out += p.finish()
        #expect(out.contains(.reset(at: b.startTime, reason: .gap(seconds: 3))))
        let pk = picks(out)
        #expect(pk.count == 1)
        #expect(pk.allSatisfy { abs($0.time.seconds(since: z.startTime) - Self.rjobP) <= 0.05 })
        // Overlap also resets.
        var q = try GlitchRejectingPicker(streamID: z.streamID, samplingRateHz: z.samplingRateHz)
        _ = q.process(a)
        var c = z
        c.startTime = z.time(ofSample: 2900)
        c.samples = Array(z.samples[2900..<3100])
        #expect(q.process(c).contains(.reset(at: c.startTime, reason: .overlap(seconds: 0.5))))
    }

    @Test("outputs are identical for any chunking (with glitches and repairs)", arguments: [1, 7, 100, 4096, -1])
    func chunking(chunk: Int) throws {
        var block = try loadTrace("obspy_RJOB_20050801_Z")
        let sigma = rms(block.samples[0..<2000])
        Self.inject("step", into: &block.samples, at: 2500, sigma: sigma, rail: 0)
        Self.inject("spike", into: &block.samples, at: 4000, sigma: sigma, rail: 0)
        let ref = try run(block, chunk: 12000)
        #expect(try run(block, chunk: chunk) == ref)
    }
}
