// Magnitude: real-time station parameters (Pd, Pv, Pa, τc, τp^max, PGA, PGV) and EEW magnitude relations.
//
// Layout (one concern per file):
// - Filter primitives of the CWB real-time chain: `ButterworthBiquad` (2-pole high/low-pass by the
//   bilinear transform), `RunningMeanRemover`, `TrapezoidIntegrator`, `TauPRecursion`.
// - `RealTimeStationProcessor` runs the chain continuously and, from a P pick on, accumulates the
//   station parameters and emits a `StationParameters` snapshot every update step.
// - One small type per magnitude relation (`PdMagnitudeKuyukAllen2013`, `PdMagnitudeWuZhao2006`,
//   `TauCMagnitude`, `TauPMagnitudeOlsonAllen2005`), each with its source, units, σ and validity.
// - `MagnitudeEstimate` / `MagnitudeCombination` (inverse-variance weighting) and
//   `StationMagnitudeEstimator` (which relations to use, displacement-SNR gate, saturation flag).
//
// Sources and constants: the project reference notes, algorithms.md §4 (copied facts are cited in each
// type's doc comment, with UNCERTAIN where the primary text was not read). Validation status and
// the real-record results: Tests/Fixtures/README-magnitude.md.
