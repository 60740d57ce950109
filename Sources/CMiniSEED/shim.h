// Internal shim over libmseed 2.19 (Debian libmseed-dev, the v2 API: msr_*, mst_*, hptime_t in µs).
// No stable Swift API: only the MiniSEED module imports this, with `internal import`.
// No pkgConfig in Package.swift: the Debian .pc file makes SwiftPM warn on every build.
#ifndef QUAKEWARN_CMINISEED_SHIM_H
#define QUAKEWARN_CMINISEED_SHIM_H
#include <libmseed.h>
#endif
