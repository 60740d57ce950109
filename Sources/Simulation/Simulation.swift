// Simulation: stochastic point-source scenario waveforms (Boore 2003) for validation, samples and drills.
//
// - StochasticModelParameters: every model constant, with its source and the assumptions.
// - StochasticPointSource: the Fourier amplitude spectrum Y(M0, R, f) of P and S acceleration.
// - StochasticSynthesis: Boore's time-domain method (windowed Gaussian noise shaped by Y(f)).
// - ScenarioSimulator: 3-component records (HNZ/HNN/HNE) of one station, with noise and counts.
// - ScenarioStation: station codes/positions; placeholder Lezhi County stations (to be surveyed).
