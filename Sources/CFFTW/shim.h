// Internal shim over FFTW 3 (Debian libfftw3-dev, pkg-config `fftw3`).
// No stable Swift API: only the SignalProcessing module imports this, with `internal import`.
#ifndef QUAKEWARN_CFFTW_SHIM_H
#define QUAKEWARN_CFFTW_SHIM_H
#include <fftw3.h>
#endif
