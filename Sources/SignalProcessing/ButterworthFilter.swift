/// A streaming causal Butterworth filter (low-pass, high-pass or band-pass) of order 1...10,
/// realised as cascaded second-order sections.
///
/// The design is exactly SciPy's `butter(order, Wn, btype, fs=samplingRateHz, output='sos')`
/// (see ``ButterworthDesign``) and the filtering is exactly `sosfilt` (direct form II transposed
/// per section, zero initial state; see ``SOSFilter``). A band-pass of order `N` has `2N` poles
/// (`N` sections); low- and high-pass of order `N` have `N` poles (`⌈N/2⌉` sections).
///
/// Units: all frequencies in Hz, times in seconds; the filter is linear, so output samples are in
/// the unit of the input.
///
/// - Latency: causal, 0 samples of look-ahead. The phase is not linear: a component at frequency
///   `f` is delayed by the group delay `τ(f) = −dφ/dω` returned by ``groupDelaySeconds(atFrequencyHz:)``
///   (analytic, summed over sections). Typical values (SciPy `group_delay` per section, checked in
///   ButterworthStreamingTests):
///
///   | filter (order 4)            | delay                                               | warm-up |
///   | --------------------------- | --------------------------------------------------- | ------- |
///   | band-pass 1–20 Hz, 200 sps  | 0.65 s at 1 Hz, 0.043 s at 4.47 Hz, 0.035 s at 20 Hz | 3.1 s   |
///   | band-pass 0.1–10 Hz, 100 sps| 6.0 s at 0.1 Hz, 0.083 s at 1 Hz, 0.064 s at 10 Hz  | 29 s    |
///   | high-pass 0.075 Hz, 100 sps | 7.8 s at 0.075 Hz, 1.6 s at 0.15 Hz, 0.031 s at 1 Hz | 38 s    |
///   | low-pass 3 Hz, 100 sps      | 0.14 s at 0.5 Hz, 0.20 s at 3 Hz                    | 0.96 s  |
///
///   The delay peaks near the corners (most at the lowest one) and grows with the order. An onset
///   picked on filtered data is late by roughly the delay at the onset's dominant frequency
///   (tens of milliseconds for a 1–20 Hz band-pass); re-picking (AIC) limits that bias.
/// - Warm-up: starting from zero state the output contains a transient (the response to the step
///   from "no data" to the first sample's offset, plus ringing) that decays with the slowest pole,
///   i.e. over a few periods of the lowest corner. ``warmUpSeconds`` is the time for that mode to
///   fall to 1e-3 (−60 dB) (table above). Demean or taper the start, or ignore that span.
/// - Chunking: bit-identical output for any block split (tested with blocks of 1, 7, 100, 4096 and
///   random sizes).
/// - Complexity: O(order) per sample; ``process(_:into:)`` and ``process(inPlace:)`` do not allocate.
public struct ButterworthFilter: Sendable {
    /// Band type and corners in Hz.
    public let band: ButterworthBand
    /// Filter order `N` (number of poles of the prototype), 1...10.
    public let order: Int
    /// Sampling rate in Hz.
    public let samplingRateHz: Double
    /// The stateful cascade.
    private var cascade: SOSFilter

    /// Designs the filter. Throws ``FilterDesignError`` unless `1 <= order <= 10`,
    /// `0 < corner < samplingRateHz/2` for every corner and `low < high` for a band-pass.
    public init(_ band: ButterworthBand, order: Int, samplingRateHz: Double) throws(FilterDesignError) {
        let sos = try ButterworthDesign.sections(order: order, band: band, samplingRateHz: samplingRateHz)
        self.band = band
        self.order = order
        self.samplingRateHz = samplingRateHz
        self.cascade = SOSFilter(sos)
    }

    /// The second-order-section coefficients (SciPy layout via ``SecondOrderSections/sciPyRows``).
    public var sections: SecondOrderSections { cascade.coefficients }

    /// Group delay in seconds at `frequencyHz` (`0 < f < fs/2`): `τ = −dφ/dω / fs`, evaluated
    /// analytically from the section polynomials (``SecondOrderSections/groupDelaySamples(atAngularFrequency:)``).
    public func groupDelaySeconds(atFrequencyHz frequencyHz: Double) -> Double {
        sections.groupDelaySeconds(atFrequencyHz: frequencyHz, samplingRateHz: samplingRateHz)
    }

    /// Gain `|H|` at `frequencyHz` (1 in the pass band, `1/√2` at each corner).
    public func gain(atFrequencyHz frequencyHz: Double) -> Double {
        sections.gain(atFrequencyHz: frequencyHz, samplingRateHz: samplingRateHz)
    }

    /// Start-up transient length in seconds: time for the slowest pole's mode to decay to 1e-3.
    public var warmUpSeconds: Double { sections.settlingTimeSeconds(toFraction: 1e-3, samplingRateHz: samplingRateHz) }

    /// Filters `input` into `output` (`output.count >= input.count`); the buffers may alias.
    public mutating func process(_ input: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        cascade.process(input, into: output)
    }

    /// Filters `samples` in place.
    public mutating func process(inPlace samples: UnsafeMutableBufferPointer<Double>) {
        cascade.process(inPlace: samples)
    }

    /// Filters `samples` in place (array convenience).
    public mutating func process(_ samples: inout [Double]) {
        cascade.process(&samples)
    }

    /// Returns a filtered copy (allocates).
    public mutating func filtered(_ input: [Double]) -> [Double] {
        cascade.filtered(input)
    }

    /// The current delay-line state, `[z0, z1]` per section (see ``SOSFilter/stateValues``).
    public var stateValues: [Double] { cascade.stateValues }

    /// Number of delay-line values in a state snapshot (2 per section).
    public var stateCount: Int { cascade.stateCount }

    /// Copies the filter state into `destination` (`count >= stateCount`), no allocation; see
    /// ``SOSFilter/copyState(into:)``.
    public func copyState(into destination: UnsafeMutableBufferPointer<Double>) {
        cascade.copyState(into: destination)
    }

    /// Restores a state saved by ``copyState(into:)`` (no allocation); see ``SOSFilter/restoreState(from:)``.
    public mutating func restoreState(from source: UnsafeBufferPointer<Double>) {
        cascade.restoreState(from: source)
    }

    /// Clears the state (next sample is filtered as if it were the first).
    public mutating func reset() {
        cascade.reset()
    }
}
