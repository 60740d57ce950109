// GB/T 17742 intensity against the independent SciPy script committed with the fixtures
// (Tests/Fixtures/groundmotion/intensity_crosscheck.py: not in this directory only because SwiftPM
// would warn about an unhandled file in the test target), on a simulated 3-component record and
// on the K-NET record.
import Foundation
import GroundMotion
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// Runs `intensity_crosscheck.py` with `QW_TEST_PYTHON` (scripts/test.sh sets it to the test venv
/// with ObsPy, NumPy, SciPy); disabled without it.
@Suite("Intensity vs an independent SciPy calculation", .enabled(if: ProcessInfo.processInfo.environment["QW_TEST_PYTHON"] != nil))
struct IntensityCrossCheckTests {
    static let script = Fixtures.path("groundmotion/intensity_crosscheck.py")

    static func python(calib: Double, files: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["QW_TEST_PYTHON"] ?? "python3")
        process.arguments = [script, String(calib)] + files
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw GMFixtures.Missing(description: "intensity_crosscheck.py failed: \(errors)")
        }
        return object
    }

    /// Tolerances: the two calculations differ in taper length rounding, FFT length (power of two vs
    /// 7-smooth ≥ 2n) and FFT library, which moves peaks by well under 1 %; ±0.05 intensity units
    /// corresponds to 3.7 % in PGA (I_A slope 3.17) or 3.9 % in PGV (slope 3.00).
    func compare(_ swift: InstrumentalIntensity, _ py: [String: Any]) throws {
        let pga = try py.double("pga"), pgv = try py.double("pgv")
        #expect(abs(swift.pgaMetersPerSecondSquared / pga - 1) < 0.01, "PGA \(swift.pgaMetersPerSecondSquared) vs \(pga)")
        #expect(abs(swift.pgvMetersPerSecond / pgv - 1) < 0.01, "PGV \(swift.pgvMetersPerSecond) vs \(pgv)")
        #expect(abs(swift.unroundedIntensity - (try py.double("intensity_unrounded"))) <= 0.05)
        #expect(abs(swift.intensityFromPGA - (try py.double("intensity_from_pga"))) <= 0.05)
        #expect(abs(swift.intensityFromPGV - (try py.double("intensity_from_pgv"))) <= 0.05)
    }

    @Test("simulated M4.5 at 24 km (SampleWaveforms nearby-m4.5, Nanta, 3 components): within ±0.05")
    func simulated() throws {
        let path = Fixtures.path("groundmotion/sim_nearby_m45_SC.NANTA.00.mseed")
        let calib = 1 / 427_699.97909581766
        let blocks = try MiniSEEDReader.read(path: path).segments.map { s -> SampleBlock in
            var b = s
            b.samples = s.samples.map { $0 * calib }
            b.unit = .metersPerSecondSquared
            return b
        }
        #expect(blocks.count == 3)
        var calculator = InstrumentalIntensityCalculator()
        let result = try calculator.compute(blocks: blocks)
        try compare(result, try Self.python(calib: calib, files: [path]))
        #expect(result.intensity >= 3 && result.intensity <= 4)
    }

    @Test("K-NET AKT013 EW (the other components absent = zero): within ±0.05; band-passed PGA 3.02 gal vs 4.383 gal raw")
    func knet() throws {
        let path = Fixtures.path("mseed/obspy_KNET_AKT013_EW.mseed")
        let calib = 2.384185791015625e-06
        var ew = try GMFixtures.segment("obspy_KNET_AKT013_EW.mseed")
        ew.samples = ew.samples.map { $0 * calib }
        ew.unit = .metersPerSecondSquared
        func zero(_ channel: String) -> SampleBlock {
            SampleBlock(streamID: StreamID(network: "BO", station: "AKT01", location: "", channel: channel), startTime: ew.startTime,
                        samplingRateHz: ew.samplingRateHz, unit: .metersPerSecondSquared,
                        samples: [Double](repeating: 0, count: ew.samples.count))
        }
        var calculator = InstrumentalIntensityCalculator()
        let result = try calculator.compute(blocks: [ew, zero("NS"), zero("UD")])
        try compare(result, try Self.python(calib: calib, files: [path]))
        // The header's 4.383 gal is the raw peak; the 0.1–10 Hz band removes the rest.
        #expect(abs(result.components[0].unfilteredPeakAccelerationMetersPerSecondSquared * 100 - 4.383) < 0.001)
        #expect(result.pgaMetersPerSecondSquared * 100 < 4.383)
    }
}
