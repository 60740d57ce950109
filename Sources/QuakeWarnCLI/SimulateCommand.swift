// `quakewarn simulate`: scenario waveforms for stations (design.md, interface contract).
import ArgumentParser
import Foundation
import SeismicCore
import Simulation

/// `quakewarn simulate --magnitude M --latitude LAT --longitude LON --depth-km H --origin-time T
/// [--seed N] [--station NET.STA.LOC:lat:lon[:elev_m]]… [--out DIR] [--duration S] [--pre-event S]
/// [--noise-rms A] [--stress-drop BAR] [--kappa S] [--sensitivity C]`
///
/// Output: one miniSEED file per station (`DIR/NET.STA.LOC.mseed`, channels HNZ/HNN/HNE, Steim-2
/// integer counts, 100 sps, 512-byte records) and one JSON line per station on stdout:
/// `{"station","epicentralDistanceKilometers","hypocentralDistanceKilometers","backAzimuthDegrees",
/// "pArrival","sArrival","pgaMetersPerSecondSquared","sensitivityCountsPerMetersPerSecondSquared","file"}`.
/// Human messages on stderr. Exit 0 on success, 2 on bad input (one line naming the option).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Scenario earthquake records (stochastic point source, Boore 2003) for stations, as miniSEED.",
        discussion: """
            Writes, for every station, 3-component acceleration (HNZ up, HNN north, HNE east) at \
            100 sps as integer counts (Steim-2, 512-byte records) to DIR/NET.STA.LOC.mseed, and prints \
            one JSON line per station with the keys station (NET.STA.LOC), \
            epicentralDistanceKilometers, hypocentralDistanceKilometers, backAzimuthDegrees, \
            pArrival and sArrival (theoretical, ISO-8601 UTC), pgaMetersPerSecondSquared, \
            sensitivityCountsPerMetersPerSecondSquared and file.
            pgaMetersPerSecondSquared is the larger of the two horizontal peak |acceleration| values \
            of the written record (counts / sensitivity, noise included). Acceleration = counts / \
            sensitivity; the default sensitivity is 2^23 counts per 2 g = 8388608 / (2 × 9.80665) ≈ \
            427699.98 counts per m/s² (a ±2 g 24-bit accelerometer); pass the same value to \
            `quakewarn magnitude --gain`.

            Model: Brune ω² point source with Mw → M0 (Hanks & Kanamori 1979), stress parameter \
            --stress-drop (default 100 bar), ρ 2.8 g/cm³, β 3.5 km/s, α = √3 β, generic V_S30 760 m/s rock site amplification \
            (quarter-wavelength, Boore 2016 profile), radiation 0.55 (S) and \
            0.52 (P), free surface 2, partition 1/√2, geometric spreading 1/R to 70 km (R^0 to 130 km, \
            R^-0.5 beyond; Atkinson & Boore 1995), Q = 180 f^0.5 (an assumption, not a Sichuan \
            calibration), κ0 --kappa (default 0.04 s), duration 1/f0 + 0.05 R, Saragoni-Hart window on \
            Gaussian noise. P (corner √3 f0, arriving at R/α) is mostly vertical, S (at R/β) mostly \
            horizontal, projected with the back-azimuth. The spectral shaping is minimum-phase (causal), \
            so nothing precedes the arrivals. Straight rays in a homogeneous medium; station \
            elevations are ignored. Station noise: Gaussian, low-passed at 40 Hz, --noise-rms m/s² \
            (default 1e-4) per channel.

            Magnitude drills: the point-source P wave is strong compared with empirical Pd relations; \
            `quakewarn magnitude` estimates ≈ 0.6-0.9 units above the scenario Mw with the defaults and \
            ≈ 0.2-0.6 above with --p-amplitude-scale 0.2 (measured at 20-60 km, M4.5-6.5).

            Records start --pre-event seconds (default 30) before each station's P arrival and end \
            --duration seconds (default 60, at most 86400) after the origin time.

            Glitches: --glitches-per-hour N injects N non-seismic transients per hour and station \
            into the counts (seeded, reproducible): 1-2 sample spikes of 30-3000 × the noise RMS, \
            box-car level steps of 3-300 × the noise RMS lasting 5-60 s, zero-count dropouts of \
            0.5-5 s; none in the first 60 s. The JSON line then has "glitches": the number injected. Same inputs and --seed give \
            byte-identical files; another seed gives other waveforms and noise.

            Numbers may be negative without '=' (e.g. --latitude -33.4): every numeric option takes \
            the next argument as its value.

            Stations: --station NET.STA.LOC:lat:lon[:elevation_m], repeatable. Without --station, the \
            two Lezhi County stations SC.NANTA.00 (30.283 N, 105.027 E) and SC.GAOSI.00 (30.340 N, \
            105.090 E) are used — PLACEHOLDER coordinates near the county seat, to be surveyed; use \
            them for drills only.
            """
    )

    @Option(parsing: .unconditional, help: "Moment magnitude Mw, 2...8.5.")
    var magnitude: String

    @Option(parsing: .unconditional, help: "Epicentre latitude, degrees north.")
    var latitude: String

    @Option(parsing: .unconditional, help: "Epicentre longitude, degrees east.")
    var longitude: String

    @Option(name: .customLong("depth-km"), parsing: .unconditional, help: "Hypocentre depth in km, 0...700.")
    var depthKm: String

    @Option(name: .customLong("origin-time"), parsing: .unconditional,
            help: "Origin time, ISO-8601 UTC (e.g. 2026-05-12T06:28:01.5Z).")
    var originTime: String

    @Option(parsing: .unconditional, help: "Random seed (unsigned 64-bit integer).")
    var seed: String = "1"

    @Option(name: .customLong("station"), help: "NET.STA.LOC:lat:lon[:elevation_m] (repeatable); default: the Lezhi placeholders.")
    var stations: [String] = []

    @Option(help: "Output directory (created if missing).")
    var out: String = "."

    @Option(parsing: .unconditional, help: "Records end this many seconds after the origin time.")
    var duration: String = "60"

    @Option(name: .customLong("pre-event"), parsing: .unconditional, help: "Seconds of noise before each station's P arrival.")
    var preEvent: String = "30"

    @Option(name: .customLong("noise-rms"), parsing: .unconditional, help: "Station noise RMS per channel in m/s² (0: none).")
    var noiseRMS: String = "1e-4"

    @Option(name: .customLong("stress-drop"), parsing: .unconditional, help: "Brune stress parameter in bar.")
    var stressDrop: String = "100"

    @Option(parsing: .unconditional, help: "Site κ0 in seconds.")
    var kappa: String = "0.04"

    @Option(name: .customLong("p-amplitude-scale"), parsing: .unconditional,
            help: "Factor on the P-wave spectrum (default 1: point-source theory).")
    var pAmplitudeScale: String = "1"

    @Option(parsing: .unconditional, help: "Sensitivity in counts per m/s² (default 2^23 counts per 2 g).")
    var sensitivity: String?

    @Option(name: .customLong("glitches-per-hour"), parsing: .unconditional,
            help: "Inject non-seismic glitches (spikes, box-car steps, zero dropouts), this many per hour per station (default 0).")
    var glitchesPerHour: String = "0"

    /// The validated inputs.
    struct Settings {
        var simulator: ScenarioSimulator
        var stations: [ScenarioStation]
        var usesPlaceholderStations: Bool
    }

    func checkedSettings() throws -> Settings {
        func number(_ text: String, _ option: String, _ unit: String) throws -> Double {
            guard let value = Double(text), value.isFinite else {
                throw Self.fail("--\(option): '\(text)' is not a finite number (\(unit))")
            }
            return value
        }
        let magnitude = try number(self.magnitude, "magnitude", "Mw")
        let latitude = try number(self.latitude, "latitude", "degrees")
        let longitude = try number(self.longitude, "longitude", "degrees")
        let depth = try number(self.depthKm, "depth-km", "km")
        guard let origin = Timestamp(iso8601: originTime) else {
            throw Self.fail("--origin-time: '\(originTime)' is not an ISO-8601 UTC time (e.g. 2026-05-12T06:28:01.5Z)")
        }
        guard let seed = UInt64(self.seed) else {
            throw Self.fail("--seed: '\(self.seed)' is not an unsigned 64-bit integer")
        }
        var config = ScenarioConfiguration()
        config.durationAfterOriginSeconds = try number(duration, "duration", "s")
        config.preEventSeconds = try number(preEvent, "pre-event", "s")
        config.noiseRMSMetersPerSecondSquared = try number(noiseRMS, "noise-rms", "m/s²")
        config.model.stressDropBars = try number(stressDrop, "stress-drop", "bar")
        config.model.kappaSeconds = try number(kappa, "kappa", "s")
        config.model.pAmplitudeScale = try number(pAmplitudeScale, "p-amplitude-scale", "factor")
        let glitchRate = try number(glitchesPerHour, "glitches-per-hour", "per hour")
        if glitchRate != 0 { config.glitches = GlitchSchedule(ratePerHour: glitchRate) }
        if let sensitivity {
            config.sensitivityCountsPerMetersPerSecondSquared = try number(sensitivity, "sensitivity", "counts per m/s²")
        }
        let earthquake = ScenarioEarthquake(momentMagnitude: magnitude, latitudeDegrees: latitude, longitudeDegrees: longitude,
                                            depthKilometers: depth, originTime: origin)
        let simulator: ScenarioSimulator
        do {
            simulator = try ScenarioSimulator(earthquake: earthquake, configuration: config, seed: seed)
        } catch {
            throw Self.fail(Self.optionName(error))
        }
        var parsed: [ScenarioStation] = []
        for spec in stations {
            do {
                parsed.append(try ScenarioStation(parsing: spec))
            } catch {
                throw Self.fail("--\(error)")
            }
        }
        var seen = Set<String>()
        for station in parsed where !seen.insert(station.code).inserted {
            throw Self.fail("--station: \(station.code) is given more than once")
        }
        let placeholders = parsed.isEmpty
        return Settings(simulator: simulator, stations: placeholders ? ScenarioStation.lezhiPlaceholders : parsed,
                        usesPlaceholderStations: placeholders)
    }

    /// Maps a library validation error to the option that carries the value.
    static func optionName(_ error: SimulationError) -> String {
        let options: [String: String] = [
            "magnitude": "--magnitude", "latitude": "--latitude", "longitude": "--longitude", "depth": "--depth-km",
            "duration": "--duration", "pre-event": "--pre-event", "noise RMS": "--noise-rms", "stress drop": "--stress-drop",
            "kappa": "--kappa", "sensitivity": "--sensitivity", "P amplitude scale": "--p-amplitude-scale",
            "glitch rate": "--glitches-per-hour",
        ]
        return "\(options[error.field] ?? error.field): \(error.reason)"
    }

    func run() throws {
        let settings = try checkedSettings()
        if settings.usesPlaceholderStations {
            Self.printError("note: no --station given; using the Lezhi placeholder stations "
                + "(approximate coordinates, to be surveyed): "
                + ScenarioStation.lezhiPlaceholders.map(\.code).joined(separator: ", "))
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw Self.fail("--out: cannot create directory '\(out)': \(error.localizedDescription)")
        }
        for station in settings.stations {
            let simulation: StationSimulation
            do {
                simulation = try settings.simulator.simulate(station)
            } catch {
                throw Self.fail(Self.optionName(error))
            }
            let path = (out as NSString).appendingPathComponent("\(station.code).mseed")
            do {
                try ScenarioSimulator.writeMiniSEED(simulation, to: path)
            } catch {
                throw Self.fail("\(error)")
            }
            if simulation.clippedSampleCount > 0 {
                Self.printError("warning: \(station.code): \(simulation.clippedSampleCount) samples clipped at full scale")
            }
            if simulation.sWindowTruncated {
                Self.printError("warning: \(station.code): the record ends before the S-wave window does; increase --duration")
            }
            Console.output(Self.line(simulation, file: path))
        }
    }

    /// The station's JSON line.
    static func line(_ s: StationSimulation, file: String) -> String {
        JSONValue.object([
            ("station", .string(s.station.code)),
            ("epicentralDistanceKilometers", .number(s.epicentralDistanceKilometers)),
            ("hypocentralDistanceKilometers", .number(s.hypocentralDistanceKilometers)),
            ("backAzimuthDegrees", .number(s.backAzimuthDegrees)),
            ("pArrival", .string(s.pArrival.iso8601)),
            ("sArrival", .string(s.sArrival.iso8601)),
            ("pgaMetersPerSecondSquared", .number(s.peakHorizontalAccelerationMetersPerSecondSquared)),
            ("sensitivityCountsPerMetersPerSecondSquared", .number(s.sensitivityCountsPerMetersPerSecondSquared)),
            ("file", .string(file)),
        ] + (s.glitches.isEmpty ? [] : [("glitches", .number(Double(s.glitches.count)))])).text
    }
}
