import Foundation
import SignalProcessing
import TestSupport
import Testing

/// Reference values from SciPy (scripts/dev/make_butter_fixtures.py → Tests/Fixtures/filters).
enum ButterFixtures {
    struct GroupDelay: Decodable { let freqs_hz: [String]; let seconds: [String] }
    struct Design: Decodable {
        let family: String
        let btype: String
        let corners_hz: [String]
        let fs_hz: String
        let order: Int
        let sos: [[String]]
        let group_delay: GroupDelay
    }
    struct CoefficientFile: Decodable { let designs: [Design] }
    struct OutputCase: Decodable {
        let family: String
        let btype: String
        let corners_hz: [String]
        let fs_hz: String
        let order: Int
        let output_stride_samples: [String]
        let impulse_response: [String]
    }
    struct OutputFile: Decodable {
        let input: [String]
        let output_indices: [Int]
        let cases: [OutputCase]
    }

    static func load<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("filters/" + name)))
        return try JSONDecoder().decode(T.self, from: data)
    }

    static func doubles(_ s: [String]) throws -> [Double] {
        try s.map { try #require(Double($0), "not a double: \($0)") }
    }

    static func band(_ btype: String, _ corners: [Double]) throws -> ButterworthBand {
        switch btype {
        case "lowpass": return .lowpass(cornerHz: corners[0])
        case "highpass": return .highpass(cornerHz: corners[0])
        case "bandpass": return .bandpass(lowHz: corners[0], highHz: corners[1])
        default:
            Issue.record("unknown btype \(btype)")
            throw CancellationError()
        }
    }
}

/// Relative error metric used throughout: `max|y − y_ref| / max|y_ref|` over all compared values.
func maxRelativeError(_ y: [Double], _ ref: [Double]) -> Double {
    precondition(y.count == ref.count)
    var num = 0.0, den = 0.0
    for (a, b) in zip(y, ref) {
        num = max(num, abs(a - b))
        den = max(den, abs(b))
    }
    return den == 0 ? num : num / den
}

@Suite("Butterworth vs SciPy")
struct ButterworthSciPyTests {
    @Test("coefficients equal scipy.signal.butter(output='sos') for all 70 designs (orders 1–10)")
    func coefficientsMatchSciPy() throws {
        let file = try ButterFixtures.load("butter_coefficients.json", as: ButterFixtures.CoefficientFile.self)
        #expect(file.designs.count == 70)
        for d in file.designs {
            let fs = try #require(Double(d.fs_hz))
            let band = try ButterFixtures.band(d.btype, try ButterFixtures.doubles(d.corners_hz))
            let filter = try ButterworthFilter(band, order: d.order, samplingRateHz: fs)
            let rows = filter.sections.sciPyRows
            let ref = try d.sos.map { try ButterFixtures.doubles($0) }
            try #require(rows.count == ref.count, "\(d.family) order \(d.order): section count")
            // Per section: numerator relative to its own scale, denominator absolute (a0 = 1).
            for (s, (row, refRow)) in zip(rows, ref).enumerated() {
                let bErr = maxRelativeError(Array(row[0..<3]), Array(refRow[0..<3]))
                let aErr = maxRelativeError(Array(row[3..<6]), Array(refRow[3..<6]))
                #expect(bErr <= 1e-9, "\(d.family) N=\(d.order) section \(s) b: \(row) vs \(refRow)")
                #expect(aErr <= 1e-9, "\(d.family) N=\(d.order) section \(s) a: \(row) vs \(refRow)")
                // Structural zeros must be exact zeros (pairing/ordering as SciPy).
                for i in 0..<6 where refRow[i] == 0 { #expect(row[i] == 0, "\(d.family) N=\(d.order) s\(s)[\(i)]") }
            }
        }
    }

    @Test("group delay equals SciPy's per-section group_delay sum")
    func groupDelayMatchesSciPy() throws {
        let file = try ButterFixtures.load("butter_coefficients.json", as: ButterFixtures.CoefficientFile.self)
        for d in file.designs {
            let fs = try #require(Double(d.fs_hz))
            let band = try ButterFixtures.band(d.btype, try ButterFixtures.doubles(d.corners_hz))
            let filter = try ButterworthFilter(band, order: d.order, samplingRateHz: fs)
            let freqs = try ButterFixtures.doubles(d.group_delay.freqs_hz)
            let ref = try ButterFixtures.doubles(d.group_delay.seconds)
            for (f, g) in zip(freqs, ref) {
                let mine = filter.groupDelaySeconds(atFrequencyHz: f)
                // SciPy's group_delay works on the product polynomial B(z)·A(1/z) and loses digits for
                // poles very near z = 1 (e.g. 9th-order 0.075 Hz high-pass at 100 sps: SciPy
                // 22.554132 s, a Richardson-extrapolated finite difference of the phase 22.554155 s,
                // this code 22.554154 s). Hence 1e-5 relative here, not 1e-9.
                #expect(abs(mine - g) <= 1e-5 * abs(g) + 1e-12, "\(d.family) N=\(d.order) f=\(f): \(mine) vs \(g)")
            }
        }
    }

    @Test("sosfilt outputs (noise with spike, impulse) match SciPy to 1e-9 relative")
    func outputsMatchSciPy() throws {
        let file = try ButterFixtures.load("butter_outputs.json", as: ButterFixtures.OutputFile.self)
        let input = try ButterFixtures.doubles(file.input)
        #expect(input.count == 3000)
        for c in file.cases {
            let fs = try #require(Double(c.fs_hz))
            let band = try ButterFixtures.band(c.btype, try ButterFixtures.doubles(c.corners_hz))
            var filter = try ButterworthFilter(band, order: c.order, samplingRateHz: fs)
            let y = filter.filtered(input)
            let refY = try ButterFixtures.doubles(c.output_stride_samples)
            let picked = file.output_indices.map { y[$0] }
            let err = maxRelativeError(picked, refY)
            #expect(err <= 1e-9, "\(c.family) N=\(c.order): output rel err \(err)")

            filter.reset()
            var impulse = [Double](repeating: 0, count: c.impulse_response.count)
            impulse[0] = 1
            let h = filter.filtered(impulse)
            let refH = try ButterFixtures.doubles(c.impulse_response)
            let errH = maxRelativeError(h, refH)
            #expect(errH <= 1e-9, "\(c.family) N=\(c.order): impulse rel err \(errH)")
        }
    }
}
