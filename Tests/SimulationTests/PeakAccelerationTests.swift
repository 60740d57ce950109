// PGA of the synthetics: scaling with magnitude and distance, and a plausibility band around a GMPE.
import Foundation
import SeismicCore
import Simulation
import Testing

/// Geometric mean over `seeds` of the reported PGA (larger horizontal) in g.
private func meanPGA(magnitude: Double, epicentralKilometers: Double, seeds: Int = 6) throws -> Double {
    var sumLog = 0.0
    for seed in 0..<seeds {
        let simulator = try ScenarioSimulator(earthquake: earthquake(magnitude: magnitude, depth: 10), seed: UInt64(seed))
        let sim = try simulator.simulate(station("PGA", north: epicentralKilometers, east: 0))
        sumLog += log(sim.peakHorizontalAccelerationMetersPerSecondSquared / 9.80665)
    }
    return exp(sumLog / Double(seeds))
}

@Suite("Peak ground acceleration")
struct PeakAccelerationTests {
    @Test("PGA grows with magnitude and decays with distance")
    func scaling() throws {
        let byMagnitude = try [4.0, 5.0, 6.0, 7.0].map { try meanPGA(magnitude: $0, epicentralKilometers: 20) }
        for i in 1..<byMagnitude.count { #expect(byMagnitude[i] > byMagnitude[i - 1], "\(byMagnitude)") }
        let byDistance = try [10.0, 20.0, 40.0, 80.0, 160.0].map { try meanPGA(magnitude: 6, epicentralKilometers: $0) }
        for i in 1..<byDistance.count { #expect(byDistance[i] < byDistance[i - 1], "\(byDistance)") }
    }

    /// Reference medians: Boore, Stewart, Seyhan & Atkinson (2014) NGA-West2 GMPE (BSSA14), PGA
    /// (RotD50) for strike-slip, V_S30 = 760 m/s, R_JB = the epicentral distance, computed with
    /// pygmm 0.8.0 by scripts/dev/simulation_gmpe_reference.py (values copied from its output).
    /// The band is the median × exp(±1σ) of the GMPE. This checks plausibility only: the
    /// simulator is a point source with generic parameters, its PGA is the larger horizontal (not
    /// RotD50), and a single scenario is not a regression fit.
    @Test("geometric-mean PGA lies within ±1σ of the BSSA14 median", arguments: [
        (5.0, 20.0, 0.0299, 0.702), (5.5, 40.0, 0.0364, 0.605), (6.0, 20.0, 0.0991, 0.605),
    ])
    func gmpeBand(magnitude: Double, distance: Double, median: Double, sigma: Double) throws {
        let pga = try meanPGA(magnitude: magnitude, epicentralKilometers: distance)
        #expect(pga > median * exp(-sigma) && pga < median * exp(sigma),
                "M\(magnitude) at \(distance) km: synthetic \(pga) g, BSSA14 median \(median) g")
    }
}
