// Simulation: stochastic point-source scenario waveforms (Boore 2003) for validation, samples and drills.
