// MiniSEED: miniSEED 2 reading and writing over libmseed 2.19 (internal import of CMiniSEED).
