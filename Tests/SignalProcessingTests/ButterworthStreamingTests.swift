import SignalProcessing
import Testing

/// Deterministic test signal (BWNoiseGenerator → uniform in [-1, 1) scaled), no Foundation randomness.
struct BWNoiseGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
    mutating func int(below n: Int) -> Int { Int(next() % UInt64(n)) }
}

func noise(count: Int, seed: UInt64, scale: Double = 1000) -> [Double] {
    var g = BWNoiseGenerator(state: seed)
    return (0..<count).map { _ in g.uniform() * scale + 300 }  // offset: exercises the transient
}

let streamingDesigns: [(ButterworthBand, Int, Double)] = [
    (.highpass(cornerHz: 0.075), 1, 100), (.highpass(cornerHz: 0.075), 4, 100),
    (.lowpass(cornerHz: 3), 3, 100), (.bandpass(lowHz: 1, highHz: 20), 4, 200),
    (.bandpass(lowHz: 0.5, highHz: 3), 5, 100), (.highpass(cornerHz: 1), 6, 200),
    (.bandpass(lowHz: 0.1, highHz: 10), 10, 100),
]

@Suite("Butterworth streaming")
struct ButterworthStreamingTests {
    func chunked(_ filter: ButterworthFilter, _ x: [Double], sizes: () -> Int) -> [Double] {
        var f = filter
        f.reset()
        var out = [Double](repeating: .nan, count: x.count)
        var i = 0
        x.withUnsafeBufferPointer { xin in
            out.withUnsafeMutableBufferPointer { o in
                while i < x.count {
                    let n = min(sizes(), x.count - i)
                    f.process(UnsafeBufferPointer(rebasing: xin[i..<(i + n)]),
                              into: UnsafeMutableBufferPointer(rebasing: o[i..<(i + n)]))
                    i += n
                }
            }
        }
        return out
    }

    @Test("output is bit-identical for chunk sizes 1, 7, 100, 4096 and random", arguments: [1, 7, 100, 4096, -1])
    func chunkingInvariance(chunk: Int) throws {
        let x = noise(count: 10_000, seed: 42)
        for (band, order, fs) in streamingDesigns {
            var whole = try ButterworthFilter(band, order: order, samplingRateHz: fs)
            let ref = whole.filtered(x)
            var g = BWNoiseGenerator(state: 7)
            let y = chunked(whole, x) { chunk > 0 ? chunk : 1 + g.int(below: 300) }
            #expect(y == ref, "\(band) N=\(order) chunk \(chunk)")
        }
    }

    @Test("in-place equals out-of-place; reset restores the initial state")
    func inPlaceAndReset() throws {
        let x = noise(count: 5000, seed: 3)
        var f = try ButterworthFilter(.bandpass(lowHz: 1, highHz: 20), order: 4, samplingRateHz: 200)
        let ref = f.filtered(x)
        f.reset()
        var y = x
        y.withUnsafeMutableBufferPointer { f.process(inPlace: $0) }
        #expect(y == ref)
        f.reset()
        var z = x
        f.process(&z)
        #expect(z == ref)
    }

    @Test("documented group delays and warm-up (values from SciPy group_delay and pole radii)")
    func documentedDelays() throws {
        // (filter, [(f, delay s)], warm-up s) — see the table in ButterworthFilter's documentation.
        let cases: [(ButterworthBand, Double, [(Double, Double)], Double)] = [
            (.bandpass(lowHz: 1, highHz: 20), 200, [(1, 0.648), (4.47, 0.0431), (20, 0.0346)], 3.093),
            (.bandpass(lowHz: 0.1, highHz: 10), 100, [(0.1, 5.9965), (1, 0.0827), (10, 0.0641)], 29.13),
            (.highpass(cornerHz: 0.075), 100, [(0.075, 7.8422), (0.15, 1.5812), (1, 0.0313)], 38.31),
            (.lowpass(cornerHz: 3), 100, [(0.5, 0.1399), (3, 0.1972)], 0.9617),
        ]
        for (band, fs, delays, warm) in cases {
            let f = try ButterworthFilter(band, order: 4, samplingRateHz: fs)
            for (hz, d) in delays {
                #expect(abs(f.groupDelaySeconds(atFrequencyHz: hz) - d) <= 0.002 * d, "\(band) at \(hz) Hz")
            }
            #expect(abs(f.warmUpSeconds - warm) <= 0.002 * warm, "\(band) warm-up \(f.warmUpSeconds)")
        }
    }

    @Test("gain is 1/sqrt(2) at every corner and ~1 in the pass band")
    func cornerGain() throws {
        for (band, order, fs) in streamingDesigns {
            let f = try ButterworthFilter(band, order: order, samplingRateHz: fs)
            switch band {
            case .lowpass(let c), .highpass(let c):
                #expect(abs(f.gain(atFrequencyHz: c) - 0.5.squareRoot()) < 1e-9)
            case .bandpass(let lo, let hi):
                #expect(abs(f.gain(atFrequencyHz: lo) - 0.5.squareRoot()) < 1e-9)
                #expect(abs(f.gain(atFrequencyHz: hi) - 0.5.squareRoot()) < 1e-9)
                #expect(abs(f.gain(atFrequencyHz: (lo * hi).squareRoot()) - 1) < 1e-9)
            }
        }
    }

    @Test("impulse response has decayed below 1e-3 of its peak after the warm-up time")
    func warmUpBoundsImpulseResponse() throws {
        for (band, order, fs) in streamingDesigns where order <= 6 {
            var f = try ButterworthFilter(band, order: order, samplingRateHz: fs)
            let n = Int(f.warmUpSeconds * fs * 3) + 10
            var h = [Double](repeating: 0, count: n)
            h[0] = 1
            f.process(&h)
            let peak = h.map(abs).max() ?? 0
            let late = h[(n * 2 / 3)...].map(abs).max() ?? 0  // after 2× the warm-up time
            #expect(late < 1e-3 * peak, "\(band) N=\(order): \(late) vs peak \(peak)")
        }
    }

    @Test("high-order narrow band-pass in SOS form stays stable and bounded")
    func narrowHighOrderStable() throws {
        var f = try ButterworthFilter(.bandpass(lowHz: 0.5, highHz: 0.6), order: 10, samplingRateHz: 200)
        #expect(f.sections.largestPoleRadius < 1)
        let y = f.filtered(noise(count: 200_000, seed: 9))
        #expect(y.allSatisfy { $0.isFinite })
        #expect((y.map(abs).max() ?? .infinity) < 1e4)
    }

    @Test("invalid designs throw typed errors")
    func validation() {
        #expect(throws: FilterDesignError.orderOutOfRange(0)) {
            try ButterworthFilter(.lowpass(cornerHz: 1), order: 0, samplingRateHz: 100)
        }
        #expect(throws: FilterDesignError.orderOutOfRange(11)) {
            try ButterworthFilter(.lowpass(cornerHz: 1), order: 11, samplingRateHz: 100)
        }
        #expect(throws: FilterDesignError.cornerOutOfRange(cornerHz: 50, nyquistHz: 50)) {
            try ButterworthFilter(.highpass(cornerHz: 50), order: 2, samplingRateHz: 100)
        }
        #expect(throws: FilterDesignError.cornerOutOfRange(cornerHz: 0, nyquistHz: 50)) {
            try ButterworthFilter(.highpass(cornerHz: 0), order: 2, samplingRateHz: 100)
        }
        #expect(throws: FilterDesignError.cornersNotIncreasing(lowHz: 5, highHz: 5)) {
            try ButterworthFilter(.bandpass(lowHz: 5, highHz: 5), order: 2, samplingRateHz: 100)
        }
        #expect(throws: FilterDesignError.invalidSamplingRate(0)) {
            try ButterworthFilter(.lowpass(cornerHz: 1), order: 2, samplingRateHz: 0)
        }
        #expect(throws: FilterDesignError.invalidSectionRow(index: 0)) {
            try SecondOrderSections(sciPyRows: [[1, 0, 0, 0, 0, 0]])
        }
        #expect(throws: FilterDesignError.noSections) { try SecondOrderSections(sections: []) }
    }
}

@Suite("FilterSpec parsing")
struct FilterSpecTests {
    @Test("valid specs")
    func valid() throws {
        #expect(try FilterSpec(parsing: "none") == .none)
        #expect(try FilterSpec(parsing: "highpass:0.075") == .highpass(cornerHz: 0.075, order: 4))
        #expect(try FilterSpec(parsing: "LOWPASS:3") == .lowpass(cornerHz: 3, order: 4))
        #expect(try FilterSpec(parsing: " bandpass:1:20 ") == .bandpass(lowHz: 1, highHz: 20, order: 4))
        #expect(FilterSpec.defaultOrder == 4)
        #expect(try FilterSpec(parsing: "bandpass:1:20").description == "bandpass:1:20")
        #expect(try FilterSpec(parsing: "highpass:0.075").description == "highpass:0.075")
    }

    @Test("invalid specs give a one-line reason", arguments: [
        "", "bandpass:3:1", "bandpass:1", "highpass", "highpass:abc", "highpass:-1", "lowpass:0",
        "notch:50", "none:1", "bandpass:1:2:3", "highpass:inf", "highpass:nan",
    ])
    func invalid(text: String) {
        do {
            _ = try FilterSpec(parsing: text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(!error.reason.isEmpty)
            #expect(!error.description.contains("\n"))
            #expect(error.text == text)
        }
    }

    @Test("makeFilter checks Nyquist and builds the documented order")
    func makeFilter() throws {
        #expect(try FilterSpec.none.makeFilter(samplingRateHz: 100) == nil)
        let f = try #require(try FilterSpec(parsing: "bandpass:1:20").makeFilter(samplingRateHz: 200))
        #expect(f.order == 4)
        #expect(f.sections.sections.count == 4)
        #expect(throws: FilterDesignError.cornerOutOfRange(cornerHz: 60, nyquistHz: 50)) {
            try FilterSpec(parsing: "lowpass:60").makeFilter(samplingRateHz: 100)
        }
    }
}
