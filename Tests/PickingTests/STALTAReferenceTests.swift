// STA/LTA and trigger_onset on the 24 real reference traces, against ObsPy 1.5.1 results
// (Tests/Fixtures/reference, provenance in Tests/Fixtures/README-picking.md).
import Foundation
import MiniSEED
import Picking
import SeismicCore
import Testing
import TestSupport

/// The demeaned input of a reference trace: `x[i] = Double(sample[i]) − mean`, with the mean
/// taken exactly from the JSON's C99 hex float (as the references were computed).
private func referenceInput(_ trace: ReferenceTrace) throws -> [Double] {
    let volume = try MiniSEEDReader.read(path: trace.mseedPath)
    try #require(volume.segments.count == 1, "\(trace.traceID): expected one contiguous segment")
    let samples = volume.segments[0].samples
    try #require(samples.count == trace.sampleCount, "\(trace.traceID): sample count")
    let mean = try #require(trace.mean, "\(trace.traceID): mean_hex \(trace.meanHex) does not parse")
    return samples.map { $0 - mean }
}

private func makeFilter(_ c: ReferenceCase) throws -> any STALTACharacteristicFunction {
    let nsta = try #require(c.nsta), nlta = try #require(c.nlta)
    switch c.algorithm {
    case "classic_sta_lta": return try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
    case "recursive_sta_lta": return try RecursiveSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
    default: throw NPYError(path: c.caseID, reason: "unknown algorithm \(c.algorithm ?? "nil")")
    }
}

private func computeCF(_ filter: any STALTACharacteristicFunction, _ x: [Double]) -> [Double] {
    var f = filter
    return f.process(x)
}

@Suite("STA/LTA on the ObsPy reference traces")
struct STALTAReferenceTests {
    static let traceIDs: [String] = (try? ReferenceCases.traceIDs()) ?? []

    @Test("24 reference traces are present")
    func fixturesPresent() {
        #expect(Self.traceIDs.count == 24)
    }

    @Test("Swift parses C99 hex floats exactly (used for the reference mean)")
    func hexFloatParsing() {
        #expect(Double("0x1.eb851eb851eb8p-5") == 0.06)
        #expect(Double("-0x1.b8e38e38e38e4p-1") == -0.8611111111111112)
        #expect(Double("0x1.0p0") == 1)
        #expect(Double("0x1p-1074") == Double.leastNonzeroMagnitude)
    }

    @Test("CF within 1e-6 of the float32 reference, warm-up exactly 0, ObsPy float64 samples bit-exact, same triggers",
          arguments: traceIDs)
    func referenceCase(traceID: String) throws {
        let trace = try ReferenceCases.load(traceID)
        let x = try referenceInput(trace)
        let cases = trace.staltaCases
        try #require(cases.count == 4)
        for c in cases {
            let cf = computeCF(try makeFilter(c), x)
            let refPath = try #require(c.cfPath)
            let ref = try NPY.readDoubles(path: refPath)
            try #require(ref.count == cf.count, "\(c.caseID): CF length")
            var worst = 0.0
            var bad = 0
            for i in cf.indices {
                let r = ref[i], v = cf[i]
                if r.isNaN {
                    if !v.isNaN { bad += 1 }
                } else if r == 0 {
                    // float32 rounding of a nonzero double never gives 0 here (|cf| ≫ 1e-38),
                    // so a zero reference is ObsPy's zeroed warm-up: ours must be exactly 0.
                    if v != 0 { bad += 1 }
                } else {
                    let rel = abs(v - r) / abs(r)
                    worst = max(worst, rel)
                    if !(rel <= 1e-6) { bad += 1 }
                }
            }
            #expect(bad == 0, "\(c.caseID): \(bad) samples off the reference (worst relative \(worst))")
            // The zero prefix is exactly the documented warm-up.
            let filter = try makeFilter(c)
            #expect(c.cfZeroPrefix == filter.warmUpSampleCount, "\(c.caseID): warm-up length")
            #expect(cf.prefix(filter.warmUpSampleCount).allSatisfy { $0 == 0 })
            // ObsPy's own float64 values: bit-identical (same operations in the same order).
            let checks = try #require(c.cfSamplesCheck)
            #expect(checks.count >= 4)
            for (key, value) in checks {
                let index = try #require(Int(key))
                #expect(cf[index].bitPattern == value.bitPattern,
                        "\(c.caseID) cf[\(index)] = \(cf[index]), ObsPy float64 \(value)")
            }
            let on = try #require(c.onThreshold), off = try #require(c.offThreshold)
            let triggers = try TriggerOnset.triggers(in: cf, onThreshold: on, offThreshold: off)
            #expect(triggers.map { [$0.onSample, $0.offSample] } == c.triggers, "\(c.caseID): triggers")
        }
    }

    @Test("numpyCompatibleMean reproduces NumPy's mean bit for bit (the reference mean_hex)", arguments: traceIDs)
    func numpyMean(traceID: String) throws {
        let trace = try ReferenceCases.load(traceID)
        let volume = try MiniSEEDReader.read(path: trace.mseedPath)
        let samples = try #require(volume.segments.first?.samples)
        let expected = try #require(trace.mean)
        let mean = try #require(numpyCompatibleMean(samples))
        #expect(mean.bitPattern == expected.bitPattern, "\(traceID): \(mean) vs NumPy \(expected)")
    }

    @Test("chunked streaming (CF and triggers) is bit-identical to one block on real data",
          arguments: ["obspy_CRLZ_HHZ", "obspy_KONO_BHZ", "obspy_UH4_EHZ", "obspy_STAU_20031119_Z"])
    func streamingOnRealData(traceID: String) throws {
        let trace = try ReferenceCases.load(traceID)
        let x = try referenceInput(trace)
        for c in trace.staltaCases {
            let filter = try makeFilter(c)
            let whole = computeCF(filter, x)
            let on = try #require(c.onThreshold), off = try #require(c.offThreshold)
            let detector = try TriggerOnset(onThreshold: on, offThreshold: off)
            let wholeTriggers = triggersChunked(detector, whole, sizes: [whole.count])
            for (name, sizes) in standardChunkings(total: x.count) {
                let chunked = runChunked(filter, x, sizes: sizes)
                #expect(bitIdentical(chunked, whole), "\(c.caseID), chunking \(name)")
                #expect(triggersChunked(detector, chunked, sizes: sizes) == wholeTriggers,
                        "\(c.caseID), trigger chunking \(name)")
            }
        }
    }
}
