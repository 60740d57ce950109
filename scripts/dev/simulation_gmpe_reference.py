#!/usr/bin/env python3
"""GMPE medians that Tests/SimulationTests/PeakAccelerationTests.swift compares the synthetics with.

Dev aid only (never a runtime dependency). Needs pygmm (tested with pygmm 0.8.0):
    python3 -m venv /tmp/gmmvenv && /tmp/gmmvenv/bin/pip install pygmm
    /tmp/gmmvenv/bin/python scripts/dev/simulation_gmpe_reference.py

Model: Boore, Stewart, Seyhan & Atkinson (2014), "NGA-West2 equations for predicting PGA, PGV,
and 5% damped PSA for shallow crustal earthquakes", Earthquake Spectra 30(3), 1057-1085
(pygmm.BooreStewartSeyhanAtkinson2014). Scenario: strike-slip, Vs30 = 760 m/s (the reference rock
site of the simulator's generic-rock amplification), global region, Joyner-Boore distance = the
epicentral distance of the point source, hypocentre 10 km deep. BSSA14's PGA is the RotD50
horizontal component; the simulator reports the larger of the two recorded horizontals, which
is on average somewhat larger (of order 10-20 %), so the comparison is only a plausibility band.
"""
import pygmm

CASES = [(5.0, 20.0), (5.5, 40.0), (6.0, 20.0), (7.0, 20.0)]

for mag, dist in CASES:
    scenario = pygmm.Scenario(mag=mag, dist_jb=dist, dist_rup=(dist * dist + 100.0) ** 0.5, dist_x=dist,
                              v_s30=760.0, mechanism="SS", dip=90.0, depth_tor=0.0, depth_hyp=10.0,
                              width=10.0, region="global")
    model = pygmm.BooreStewartSeyhanAtkinson2014(scenario)
    print(f"M{mag} R_JB {dist} km: median PGA {model.pga:.4f} g, ln sigma {model.ln_std_pga:.3f}")
