// Scenario records: arrivals, noise, counts, reproducibility and input validation.
import Foundation
import MiniSEED
import SeismicCore
import Simulation
import Testing

/// Independent twin of the great-circle distance (spherical law of cosines, R = 6371 km).
func twinDistanceKilometers(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let (p1, p2) = (lat1 * .pi / 180, lat2 * .pi / 180)
    let c = sin(p1) * sin(p2) + cos(p1) * cos(p2) * cos((lon2 - lon1) * .pi / 180)
    return 6371 * acos(min(1, max(-1, c)))
}

/// Independent twin of the azimuth epicentre → station: project the station's unit vector on the
/// local north and east unit vectors at the epicentre.
func twinAzimuthRadians(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    func unit(_ lat: Double, _ lon: Double) -> (Double, Double, Double) {
        let (p, l) = (lat * .pi / 180, lon * .pi / 180)
        return (cos(p) * cos(l), cos(p) * sin(l), sin(p))
    }
    let (p, l) = (lat1 * .pi / 180, lon1 * .pi / 180)
    let north = (-sin(p) * cos(l), -sin(p) * sin(l), cos(p))
    let east = (-sin(l), cos(l), 0.0)
    let s = unit(lat2, lon2)
    return atan2(s.0 * east.0 + s.1 * east.1 + s.2 * east.2, s.0 * north.0 + s.1 * north.1 + s.2 * north.2)
}

let origin = Timestamp(iso8601: "2026-05-12T06:28:01.25Z") ?? Timestamp(nanosecondsSinceEpoch: 0)

func earthquake(magnitude: Double = 5.5, depth: Double = 12) -> ScenarioEarthquake {
    ScenarioEarthquake(momentMagnitude: magnitude, latitudeDegrees: 30.0, longitudeDegrees: 105.0,
                       depthKilometers: depth, originTime: origin)
}

/// A station `north` km north and `east` km east of the epicentre (30 N, 105 E).
func station(_ code: String, north: Double, east: Double) -> ScenarioStation {
    ScenarioStation(network: "SC", station: code, location: "00", latitudeDegrees: 30 + north / 111.195,
                    longitudeDegrees: 105 + east / (111.195 * cos(30 * Double.pi / 180)))
}

@Suite("Scenario records")
struct ScenarioTests {
    @Test("P at origin + R/α and S at origin + R/β: the signal is exactly zero before, non-zero from the first sample at or after")
    func arrivals() throws {
        var config = ScenarioConfiguration()
        config.noiseRMSMetersPerSecondSquared = 0
        let simulator = try ScenarioSimulator(earthquake: earthquake(), configuration: config, seed: 42)
        for (north, east) in [(30.0, 20.0), (-12.0, 41.0), (0.0, -55.0)] {
            let st = station("T", north: north, east: east)
            let sim = try simulator.simulate(st)
            let delta = twinDistanceKilometers(30, 105, st.latitudeDegrees, st.longitudeDegrees)
            #expect(abs(sim.epicentralDistanceKilometers - delta) < 1e-6)
            let r = (delta * delta + 144).squareRoot()
            #expect(abs(sim.hypocentralDistanceKilometers - r) < 1e-6)
            let alpha = 3.5 * 3.0.squareRoot()
            #expect(abs(sim.pArrival.seconds(since: origin) - r / alpha) < 1e-6)
            #expect(abs(sim.sArrival.seconds(since: origin) - r / 3.5) < 1e-6)

            let z = sim.signalBlocks[0]
            let iP = sim.pArrivalSampleIndex
            // The arrival sample is the first at or after the arrival: within one sample.
            let offset = z.time(ofSample: iP).seconds(since: sim.pArrival)
            #expect(offset >= 0 && offset < 0.01, "P sample offset \(offset) s")
            for block in sim.signalBlocks {
                #expect(block.samples[..<iP].allSatisfy { $0 == 0 }, "\(block.streamID): energy before P")
            }
            #expect(z.samples[iP] != 0)

            // P moves in the radial-vertical plane: the transverse horizontal is zero until S.
            let az = twinAzimuthRadians(30, 105, st.latitudeDegrees, st.longitudeDegrees)
            let n = sim.signalBlocks[1].samples, e = sim.signalBlocks[2].samples
            let iS = sim.sArrivalSampleIndex
            #expect(abs(sim.signalBlocks[1].time(ofSample: iS).seconds(since: sim.sArrival) - 0.005) <= 0.005)
            var maxTransverseBeforeS = 0.0, maxRadialBeforeS = 0.0
            for i in iP..<iS {
                maxTransverseBeforeS = max(maxTransverseBeforeS, abs(-n[i] * sin(az) + e[i] * cos(az)))
                maxRadialBeforeS = max(maxRadialBeforeS, abs(n[i] * cos(az) + e[i] * sin(az)))
            }
            #expect(maxTransverseBeforeS < 1e-9 * maxRadialBeforeS, "transverse before S: \(maxTransverseBeforeS) vs radial \(maxRadialBeforeS)")
            let transverseAtS = abs(-n[iS] * sin(az) + e[iS] * cos(az))
            #expect(transverseAtS > 10 * maxTransverseBeforeS, "SH must start at the S sample")
            // Vertical dominated by P, horizontals by S.
            let peakZ = z.samples.map(abs).max() ?? 0
            let peakH = (n + e).map(abs).max() ?? 0
            let peakZBeforeS = z.samples[iP..<iS].map(abs).max() ?? 0
            #expect(peakH > peakZ, "horizontal S peak \(peakH) vs vertical \(peakZ)")
            #expect(peakZBeforeS > 0.5 * peakZ, "vertical P \(peakZBeforeS) vs vertical peak \(peakZ)")
        }
    }

    @Test("pre-event noise RMS equals the configured level within 3 %, per channel")
    func noiseLevel() throws {
        for level in [1e-4, 5e-4] {
            var config = ScenarioConfiguration()
            config.noiseRMSMetersPerSecondSquared = level
            let simulator = try ScenarioSimulator(earthquake: earthquake(magnitude: 4), configuration: config, seed: 9)
            let sim = try simulator.simulate(station("N", north: 50, east: 0))
            #expect(sim.pArrivalSampleIndex >= 2999)
            for block in sim.countBlocks {
                let pre = block.samples[..<sim.pArrivalSampleIndex].map { $0 / sim.sensitivityCountsPerMetersPerSecondSquared }
                let mean = pre.reduce(0, +) / Double(pre.count)
                let rms = (pre.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(pre.count)).squareRoot()
                #expect(abs(rms / level - 1) < 0.03, "\(block.streamID): noise RMS \(rms), configured \(level)")
                #expect(abs(mean) < 0.1 * level)
            }
        }
    }

    @Test("counts are integers that round-trip through MiniSEEDWriter/Reader; counts / sensitivity = signal + noise to ½ count")
    func countsRoundTrip() throws {
        let simulator = try ScenarioSimulator(earthquake: earthquake(), seed: 5)
        let sim = try simulator.simulate(station("RT", north: 25, east: 25))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sim-roundtrip-\(getpid()).mseed").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ScenarioSimulator.writeMiniSEED(sim, to: path)
        let volume = try MiniSEEDReader.read(path: path)
        #expect(volume.problems.isEmpty)
        let sensitivity = 8_388_608.0 / (2 * 9.80665)
        #expect(sim.sensitivityCountsPerMetersPerSecondSquared == sensitivity)
        for (written, signal) in zip(sim.countBlocks, sim.signalBlocks) {
            let read = volume.segments(of: written.streamID)
            try #require(read.count == 1)
            #expect(read[0].samples == written.samples)
            #expect(read[0].startTime == written.startTime)
            #expect(read[0].samplingRateHz == 100)
            #expect(volume.encodings[written.streamID] == [.steim2])
            #expect(written.samples.allSatisfy { $0 == $0.rounded() })
            // Before P the record is noise alone, so |counts/sens - signal| is the noise; after
            // the P arrival, the signal dominates: check the conversion on the largest sample.
            if let peak = signal.samples.indices.max(by: { abs(signal.samples[$0]) < abs(signal.samples[$1]) }) {
                let acceleration = read[0].samples[peak] / sensitivity
                #expect(abs(acceleration - signal.samples[peak]) < 1e-3 + 0.01 * abs(signal.samples[peak]))
            }
        }
        let metadata = sim.metadata
        #expect(metadata.channels.map(\.channel) == ["HNZ", "HNN", "HNE"])
        #expect(metadata.channel("HNN")?.metersPerSecondSquared(fromCounts: sensitivity) == 1)
        #expect(metadata.latitudeDegrees == sim.station.latitudeDegrees)
        let horizontalPeak = sim.countBlocks[1...].flatMap(\.samples).map { abs($0) / sensitivity }.max() ?? 0
        #expect(sim.peakHorizontalAccelerationMetersPerSecondSquared == horizontalPeak)
    }

    @Test("an M7 at the station clips at ±2^23 counts and says how many samples")
    func clipping() throws {
        let simulator = try ScenarioSimulator(earthquake: earthquake(magnitude: 7, depth: 0), seed: 1)
        let sim = try simulator.simulate(station("CLIP", north: 0, east: 0))
        #expect(sim.clippedSampleCount > 0)
        let all = sim.countBlocks.flatMap(\.samples)
        #expect(all.allSatisfy { $0 >= -8_388_608 && $0 <= 8_388_607 })
        #expect(all.filter { $0 == 8_388_607 || $0 == -8_388_608 }.count == sim.clippedSampleCount)
        #expect(abs(sim.peakHorizontalAccelerationMetersPerSecondSquared - 2 * 9.80665) < 1e-4)
    }

    @Test("same inputs and seed give byte-identical files; another seed gives other waveforms and noise")
    func reproducibility() throws {
        let dir = FileManager.default.temporaryDirectory.path
        func file(seed: UInt64, name: String) throws -> [UInt8] {
            let simulator = try ScenarioSimulator(earthquake: earthquake(), seed: seed)
            let sim = try simulator.simulate(station("REP", north: 40, east: -10))
            let path = dir + "/sim-repro-\(getpid())-\(name).mseed"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try ScenarioSimulator.writeMiniSEED(sim, to: path)
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let a = try file(seed: 77, name: "a")
        let b = try file(seed: 77, name: "b")
        let c = try file(seed: 78, name: "c")
        #expect(a.count > 0)
        #expect(a == b)
        #expect(a != c)
        // The noise differs from the first sample on.
        let simulator77 = try ScenarioSimulator(earthquake: earthquake(), seed: 77)
        let simulator78 = try ScenarioSimulator(earthquake: earthquake(), seed: 78)
        let s77 = try simulator77.simulate(station("REP", north: 40, east: -10))
        let s78 = try simulator78.simulate(station("REP", north: 40, east: -10))
        #expect(Array(s77.countBlocks[0].samples.prefix(100)) != Array(s78.countBlocks[0].samples.prefix(100)))
        #expect(s77.signalBlocks[1].samples != s78.signalBlocks[1].samples)
    }

    @Test("a station's records do not depend on the other stations simulated")
    func stationIndependence() throws {
        let simulator = try ScenarioSimulator(earthquake: earthquake(), seed: 3)
        let one = try simulator.simulate(station("ONE", north: 30, east: 0))
        _ = try simulator.simulate(station("TWO", north: 0, east: 30))
        let again = try simulator.simulate(station("ONE", north: 30, east: 0))
        #expect(one.countBlocks == again.countBlocks)
    }

    @Test("record span: pre-event before P, to origin + duration, on the origin-aligned 100 sps grid")
    func recordSpan() throws {
        var config = ScenarioConfiguration()
        config.preEventSeconds = 20
        config.durationAfterOriginSeconds = 45
        let simulator = try ScenarioSimulator(earthquake: earthquake(), configuration: config, seed: 1)
        let sim = try simulator.simulate(station("SPAN", north: 33, east: 0))
        let block = sim.countBlocks[0]
        let lead = sim.pArrival.seconds(since: block.startTime)
        #expect(lead >= 20 && lead < 20.01 + 1e-9, "start \(lead) s before P")
        let offGrid = block.startTime.seconds(since: origin) * 100
        #expect(abs(offGrid - offGrid.rounded()) < 1e-4)
        #expect(block.lastSampleTime <= origin.adding(nanoseconds: 45_000_000_000))
        #expect(block.endTimeExclusive > origin.adding(nanoseconds: 45_000_000_000))
    }

    @Test("invalid scenario inputs are rejected with the field named")
    func validation() throws {
        for (m, depth, field) in [(1.9, 10.0, "magnitude"), (8.6, 10.0, "magnitude"), (Double.nan, 10.0, "magnitude"),
                                  (5.0, -1.0, "depth"), (5.0, 800.0, "depth")] {
            #expect(throws: SimulationError.self) { try ScenarioSimulator(earthquake: earthquake(magnitude: m, depth: depth), seed: 0) }
            do {
                _ = try ScenarioSimulator(earthquake: earthquake(magnitude: m, depth: depth), seed: 0)
            } catch {
                #expect(error.field == field)
            }
        }
        var config = ScenarioConfiguration()
        config.noiseCornerHz = 60
        #expect(throws: SimulationError.self) { try ScenarioSimulator(earthquake: earthquake(), configuration: config, seed: 0) }
        config = ScenarioConfiguration()
        config.durationAfterOriginSeconds = 5
        let simulator = try ScenarioSimulator(earthquake: earthquake(), configuration: config, seed: 0)
        #expect(throws: SimulationError.self) { try simulator.simulate(station("FAR", north: 100, east: 0)) }
    }

    @Test("station specs parse, and bad ones name the problem", arguments: [
        ("SC.NANTA.00:30.283:105.027", true), ("SC.GAOSI.00:30.34:105.09:350", true), ("XX.A.:0:0", true),
        ("SC.NANTA.00:30.283", false), ("SC.NANTA:30:105", false), ("SC.TOOLONG.00:30:105", false),
        ("sc.NANTA.00:30:105", false), ("SC.NANTA.00:95:105", false), ("SC.NANTA.00:30:east", false),
        ("SC.NANTA.00:30:105:high", false), ("SC.NANTA.000:30:105", false), ("SC.NANTA.00:30:105:1:2", false),
    ])
    func stationSpecs(spec: String, valid: Bool) throws {
        if valid {
            let st = try ScenarioStation(parsing: spec)
            #expect(spec.hasPrefix(st.code + ":"))
        } else {
            #expect(throws: SimulationError.self) { try ScenarioStation(parsing: spec) }
        }
    }

    @Test("Lezhi placeholder stations: two SC stations a few km apart near the county seat")
    func lezhiPlaceholders() {
        let stations = ScenarioStation.lezhiPlaceholders
        #expect(stations.map(\.code) == ["SC.NANTA.00", "SC.GAOSI.00"])
        let apart = twinDistanceKilometers(stations[0].latitudeDegrees, stations[0].longitudeDegrees,
                                           stations[1].latitudeDegrees, stations[1].longitudeDegrees)
        #expect(apart > 2 && apart < 20, "\(apart) km apart")
        for st in stations {
            #expect(twinDistanceKilometers(30.28, 105.03, st.latitudeDegrees, st.longitudeDegrees) < 15)
        }
    }

    @Test("geodesy: 1° of latitude is 111.19 km; azimuths of the cardinal directions")
    func geodesy() {
        #expect(abs(Geodesy.distanceKilometers(from: GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105), to: GeoPoint(latitudeDegrees: 31, longitudeDegrees: 105)) - 111.195) < 0.001)
        #expect(abs(Geodesy.bearingDegrees(from: GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105), to: GeoPoint(latitudeDegrees: 31, longitudeDegrees: 105))) < 1e-9)
        #expect(abs(Geodesy.bearingDegrees(from: GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105), to: GeoPoint(latitudeDegrees: 29, longitudeDegrees: 105)) - 180) < 1e-9)
        let east = Geodesy.bearingDegrees(from: GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105), to: GeoPoint(latitudeDegrees: 30, longitudeDegrees: 105.1))
        #expect(abs(east - 90) < 0.05)
        #expect(Geodesy.distanceKilometers(from: GeoPoint(latitudeDegrees: 10, longitudeDegrees: 20), to: GeoPoint(latitudeDegrees: 10, longitudeDegrees: 20)) == 0)
    }
}
