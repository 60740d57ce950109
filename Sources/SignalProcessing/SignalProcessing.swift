// SignalProcessing: FFT over FFTW (internal import of CFFTW) and streaming IIR filters.
// Every public type documents its units, warm-up and latency.
