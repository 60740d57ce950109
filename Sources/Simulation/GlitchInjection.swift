public import SeismicCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Non-seismic transients injected into simulated count records, for drills and false-alarm tests
/// ("hours of noise with glitches"): the kinds that ``Picking/GlitchDetector`` is meant to recognise.
///
/// Kinds (amplitudes in units of the channel's noise RMS in counts, `σc = noiseRMS · sensitivity`,
/// drawn log-uniformly between the configured bounds, sign random):
/// - **spike**: 1 or 2 consecutive samples offset by the amplitude (telemetry bit errors);
/// - **step**: a box-car level shift (two steps: a calibration-pulse-like offset lasting
///   ``stepDurationSeconds``), amplitude as for spikes divided by 10;
/// - **dropout**: a run of zero counts (zero-fill after a telemetry loss) lasting
///   ``dropoutDurationSeconds``.
///
/// The schedule is drawn from its own seeded generator (label `NET.STA.LOC/glitches`): `count =
/// round(ratePerHour · record hours)` glitches, times uniform over the record after the first
/// ``quietStartSeconds``, channel uniform over HNZ/HNN/HNE, kind cycling spike → step → dropout
/// with a random start. Same seed, station and record → the same glitches.
public struct GlitchSchedule: Sendable, Equatable {
    /// Mean number of glitches per hour of record (per station, all channels together).
    public var ratePerHour: Double
    /// Spike amplitude range in noise RMS units (log-uniform). Default 30…3000.
    public var spikeAmplitudeRange: ClosedRange<Double> = 30...3000
    /// Step (box-car) duration range in seconds. Default 5…60 s.
    public var stepDurationSeconds: ClosedRange<Double> = 5...60
    /// Dropout duration range in seconds. Default 0.5…5 s.
    public var dropoutDurationSeconds: ClosedRange<Double> = 0.5...5
    /// No glitch in the first seconds of the record (picker warm-up). Default 60 s.
    public var quietStartSeconds: Double = 60

    public init(ratePerHour: Double) { self.ratePerHour = ratePerHour }

    /// Checks the ranges.
    public func validate() throws(SimulationError) {
        guard ratePerHour.isFinite, ratePerHour >= 0, ratePerHour <= 3600 else {
            throw SimulationError(field: "glitch rate", reason: "\(ratePerHour) per hour is not in 0...3600")
        }
        for (name, r) in [("spike amplitude", spikeAmplitudeRange), ("step duration", stepDurationSeconds),
                          ("dropout duration", dropoutDurationSeconds)]
        where !(r.lowerBound.isFinite && r.upperBound.isFinite && r.lowerBound > 0) {
            throw SimulationError(field: name, reason: "\(r) must be finite and > 0")
        }
        guard quietStartSeconds.isFinite, quietStartSeconds >= 0 else {
            throw SimulationError(field: "glitch quiet start", reason: "\(quietStartSeconds) s is not >= 0")
        }
    }
}

/// One injected glitch (what was done to the record).
public struct InjectedGlitch: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case spike, step, dropout
    }
    public var kind: Kind
    /// Channel code (`HNZ`, `HNN`, `HNE`).
    public var channel: String
    /// First affected sample index and number of affected samples.
    public var firstSample: Int
    public var sampleCount: Int
    /// Offset in counts (0 for a dropout).
    public var offsetCounts: Double
    public var time: Timestamp
}

extension GlitchSchedule {
    /// Draws the glitches for a record of `count` samples per channel.
    func draw(count: Int, samplingRateHz fs: Double, noiseRMSCounts: Double, start: Timestamp,
              generator g: inout SplitMix64) -> [InjectedGlitch] {
        let hours = Double(count) / fs / 3600
        let n = Int((ratePerHour * hours).rounded())
        let first = Int((quietStartSeconds * fs).rounded())
        guard n > 0, count > first + 1 else { return [] }
        func logUniform(_ r: ClosedRange<Double>) -> Double {
            r.lowerBound * pow(r.upperBound / r.lowerBound, g.nextUniform())
        }
        let block = SampleBlock(streamID: StreamID(network: "", station: "", location: "", channel: ""),
                                startTime: start, samplingRateHz: fs, unit: .counts, samples: [])
        var kind = Int(g.next() % 3)
        var out: [InjectedGlitch] = []
        for _ in 0..<n {
            let index = first + Int(g.nextUniform() * Double(count - first - 1))
            let channel = ScenarioStation.channelCodes[Int(g.next() % 3)]
            let sign: Double = g.nextUniform() < 0.5 ? -1 : 1
            let glitch: InjectedGlitch
            switch InjectedGlitch.Kind.allCases[kind % 3] {
            case .spike:
                let width = g.nextUniform() < 0.5 ? 1 : 2
                glitch = InjectedGlitch(kind: .spike, channel: channel, firstSample: index, sampleCount: width,
                                        offsetCounts: (sign * logUniform(spikeAmplitudeRange) * noiseRMSCounts).rounded(),
                                        time: block.time(ofSample: index))
            case .step:
                let length = Int((logUniform(stepDurationSeconds) * fs).rounded())
                glitch = InjectedGlitch(kind: .step, channel: channel, firstSample: index, sampleCount: max(1, length),
                                        offsetCounts: (sign * logUniform(spikeAmplitudeRange) / 10 * noiseRMSCounts).rounded(),
                                        time: block.time(ofSample: index))
            case .dropout:
                let length = Int((logUniform(dropoutDurationSeconds) * fs).rounded())
                glitch = InjectedGlitch(kind: .dropout, channel: channel, firstSample: index, sampleCount: max(2, length),
                                        offsetCounts: 0, time: block.time(ofSample: index))
            }
            out.append(glitch)
            kind += 1
        }
        return out.sorted { ($0.firstSample, $0.channel) < ($1.firstSample, $1.channel) }
    }

    /// Applies `glitches` of `channel` to `counts` (clipped to ±full scale).
    static func apply(_ glitches: [InjectedGlitch], channel: String, to counts: inout [Double], fullScale: Double) {
        for gl in glitches where gl.channel == channel {
            let end = min(counts.count, gl.firstSample + gl.sampleCount)
            guard gl.firstSample < end else { continue }
            for i in gl.firstSample..<end {
                switch gl.kind {
                case .spike, .step: counts[i] = min(max(counts[i] + gl.offsetCounts, -fullScale - 1), fullScale)
                case .dropout: counts[i] = 0
                }
            }
        }
    }
}
