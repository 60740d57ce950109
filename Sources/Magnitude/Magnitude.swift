// Magnitude: real-time station parameters (Pd, Pv, Pa, tau_c, tau_p^max, PGA, PGV) and EEW magnitude relations.
