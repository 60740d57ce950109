// GroundMotion: instrument response, spectral integration, Wood–Anderson simulation and
// GB/T 17742-2020 instrumental intensity, computed OFFLINE over whole windows with FFTW.
//
// Map of the module:
// - `PolesZeros`              analogue transfer function from poles/zeros (rad/s), A0, sensitivity.
// - `TimeDomainTaper`, `CosineBandTaper`  ObsPy-compatible time taper and SAC-style frequency taper.
// - `SpectralWindow`          demean → taper → zero-pad → FFT once; synthesise any number of
//                             filtered versions (transfer function per bin) → inverse FFT.
// - `ResponseSimulation`      deconvolution/simulation (water level, pre-filter), spectral
//                             integration/differentiation.
// - `WoodAndersonSeismograph`, `LocalMagnitude`  WA simulation (h 0.8/2800, h 0.7/2080) and
//                             Hutton & Boore (1987) ML; GB 17740-2017 DD-1 notes.
// - `InstrumentalIntensityCalculator`  GB/T 17742-2020 Appendix A instrumental intensity.
//
// Sources: /work/shared/reference/algorithms.md §5–§7 (project notes), ObsPy 1.5.1
// `obspy.signal.invsim` (read to learn the conventions; the code here is our own).
