#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parameters of the stochastic point-source ground-motion model (Boore 2003), with their
/// sources. Every value can be changed; the defaults are documented one by one below.
///
/// Reference: D. M. Boore (2003), "Simulation of ground motion using the stochastic method",
/// Pure and Applied Geophysics 160, 635–676, doi:10.1007/PL00012553 — cited below as "Boore 2003".
/// Equation numbers are given where we are confident of them; the section names are Boore 2003's.
///
/// **Defaults are a generic crustal model, not a calibrated model for Sichuan.** The stress
/// parameter, Q(f) and κ0 in particular are assumptions (see each property): the synthetics are
/// meant for drills, pipeline tests and order-of-magnitude checks, not for hazard estimates.
public struct StochasticModelParameters: Sendable, Equatable {
    /// Stress parameter Δσ in bar (Brune source, Boore 2003 "Source" section). Default 100 bar,
    /// a common generic value for shallow crustal earthquakes in stochastic models (e.g. the
    /// order of the western-North-America values used with the method); an assumption here.
    public var stressDropBars: Double = 100

    /// Density ρ_s near the source in g/cm³. Default 2.8 (Boore 2003's example crustal value).
    public var densityGramsPerCubicCentimeter: Double = 2.8

    /// Shear-wave velocity β_s near the source in km/s. Default 3.5 (Boore 2003's example).
    public var shearVelocityKilometersPerSecond: Double = 3.5

    /// P-wave velocity α near the source in km/s. Default 3.5·√3 ≈ 6.06 km/s (a Poisson solid,
    /// λ = μ, so α = √3 β) — an assumption consistent with typical upper-crust Vp/Vs ≈ 1.73.
    /// Also the propagation speed of P: t_P = R / α.
    public var compressionalVelocityKilometersPerSecond: Double = 3.5 * 3.0.squareRoot()

    /// Average S-wave radiation coefficient ⟨R_θφ⟩ = 0.55 (Boore & Boatwright 1984, used by
    /// Boore 2003 in the constant C of the source spectrum).
    public var sRadiationCoefficient: Double = 0.55

    /// Average P-wave radiation coefficient. Default 0.52 = √(4/15), the root-mean-square of the
    /// double-couple P radiation pattern over the focal sphere (Aki & Richards 2002, ch. 4: the
    /// mean of sin²2θ·cos²φ-type patterns; the S counterpart is √(2/5) ≈ 0.63, which Boore &
    /// Boatwright 1984 reduce to 0.55 for the relevant take-off angles). An assumption.
    public var pRadiationCoefficient: Double = (4.0 / 15.0).squareRoot()

    /// Free-surface amplification F = 2 (Boore 2003, constant C). For S the simulator uses it as
    /// is; for P the spectrum carries F = 2 and the simulator replaces the ray projection
    /// (2 cos i, 2 sin i) by the exact free-surface displacement of an incident plane P wave (see
    /// ``ScenarioSimulator``).
    public var freeSurfaceFactor: Double = 2

    /// Partition of the S energy onto one horizontal component, V = 1/√2 (Boore 2003, constant C).
    /// The simulator makes two independent S components (SH on the transverse, SV in the
    /// radial-vertical plane), each with this partition factor.
    public var horizontalPartition: Double = 1 / 2.0.squareRoot()

    /// Q(f) = Q0 · f^η: Q0. Default 180. **Assumption**: Q = 180 f^0.5 is a generic value for an
    /// active crustal region, of the order of the values used for western North America; we
    /// have no published Q(f) for the Sichuan basin at hand. Used for P and S alike (Q_P = Q_S,
    /// a simplification).
    public var qZero: Double = 180

    /// Q(f) = Q0 · f^η: η. Default 0.5 (assumption, see ``qZero``).
    public var qExponent: Double = 0.5

    /// Site amplification A(f). Default ``SiteAmplification/genericRock760`` (V_S30 = 760 m/s
    /// generic rock, the GMPE reference site); ``SiteAmplification/none`` gives the unamplified
    /// source-rock motion (×2 free surface only).
    public var siteAmplification: SiteAmplification = .genericRock760

    /// κ0 in seconds, the high-frequency diminution `exp(−π κ0 f)` (Anderson & Hough 1984; Boore
    /// 2003 "Site effects"). Default 0.04 s, a common value for rock sites in active regions.
    public var kappaSeconds: Double = 0.04

    /// Path-duration slope b in s/km: the ground-motion duration is `T_gm = 1/f0 + b·R`
    /// (Boore 2003 "Ground-motion duration": source duration 1/f0 plus a path duration).
    /// Default 0.05 s/km for every distance, the simple form specified for this project. It is
    /// a simplification: published stochastic models use region-specific piecewise-linear path
    /// durations (e.g. Atkinson & Boore 1995 for eastern North America), none of which is
    /// calibrated for Sichuan.
    public var pathDurationSecondsPerKilometer: Double = 0.05

    /// Saragoni–Hart window parameter ε: the window peaks at `ε · t_η` (Boore 2003, "Time
    /// series" section, window w(t; ε, η, t_η); 0.2 in Boore 2003).
    public var windowEpsilon: Double = 0.2

    /// Saragoni–Hart window parameter η: the window has fallen to η of its peak at `t_η`
    /// (0.05 in Boore 2003).
    public var windowEta: Double = 0.05

    /// `t_η = f_Tgm · T_gm` (2.0 in Boore 2003). The window is evaluated up to
    /// ``windowLengthFactor`` · t_η; beyond that the motion is set to zero.
    public var windowDurationFactor: Double = 2

    /// The Saragoni–Hart window is evaluated over `[0, windowLengthFactor · t_η]`. Default 2: at
    /// 2 t_η the window is below 0.1 % of its peak, so the cut is invisible under any noise floor.
    public var windowLengthFactor: Double = 2

    /// Ratio of the P-wave corner frequency to the S-wave corner frequency. Default **1.5**, the
    /// ratio of Madariaga's (1976, BSSA 66, 639–666) dynamic circular crack (rupture at 0.9 β:
    /// f0_P = 0.32 β/a, f0_S = 0.21 β/a), the value most observational studies quote (1.2–1.6;
    /// Hanks 1981; Abercrombie 1995).
    ///
    /// **Why not α/β (√3, the earlier default).** Brune's (1970) model is a shear-stress pulse on
    /// the fault that radiates S; it has no P counterpart. Replacing β by α in Brune's corner
    /// formula ("β → α") treats P as if the rupture grew at the P speed, which no crack model does
    /// (ruptures propagate below β). That overstated the P corner by √3/1.5 ≈ 1.15 and the
    /// P-wave energy by its cube.
    ///
    /// P/S energy: for a point source the radiated energies scale as `⟨R_c⟩² f0_c³ / (ρ c⁵)`, so
    /// with identical corners `E_S/E_P = 1.5 (α/β)⁵ ≈ 23.4` for a Poisson solid, and with
    /// Madariaga's 1.5 ratio ≈ 7 (Boatwright & Fletcher 1984, as quoted in Shearer 2009,
    /// "Introduction to Seismology", 2nd ed., §9.6, eq. 9.52).
    ///
    /// Consequence for the magnitude chain: see docs/validation.md (regenerated by
    /// scripts/dev/make_validation.py) for the error of the Pd/τc magnitudes on these records.
    public var pCornerFrequencyRatio: Double = 1.5

    /// The shape of the source spectrum (and with it the source duration). Default
    /// ``SourceSpectrumModel/brune``, the single-corner ω² point source of Boore 2003 with the
    /// corner from ``stressDropBars``; ``SourceSpectrumModel/atkinsonSilva2000`` is the published
    /// two-corner California source, the point-source equivalent of finite-fault simulations
    /// (see the enum). Neither is calibrated for Sichuan.
    public var sourceModel: SourceSpectrumModel = .brune

    /// A factor on the P-wave spectrum (default 1: P exactly as the point-source model gives it).
    /// Not a calibration knob for validation: it exists for drills that want weaker P waves.
    public var pAmplitudeScale: Double = 1

    /// Angle of incidence of P at the free surface, from the vertical, in degrees. Default 30°:
    /// rays bend towards the vertical in the low-velocity near surface, so P arrives steeply
    /// (assumption). The S incidence angle follows from Snell's law with the same ray parameter:
    /// `sin j = sin i · β/α` (≈ 16.8° for the defaults).
    public var pIncidenceAngleDegrees: Double = 30

    public init() {}
}

/// The source-spectrum shape S(f) of the stochastic model (Boore 2003, "Source" section), the
/// factor that multiplies `C · M0` in the displacement spectrum.
public enum SourceSpectrumModel: String, Sendable, Equatable, CaseIterable {
    /// Single-corner Brune ω² point source, `S(f) = 1/(1 + (f/f0)²)` with
    /// `f0 = 4.906e6 β (Δσ/M0)^(1/3)` (Boore 2003); source duration 1/f0.
    case brune = "brune"

    /// Two-corner source of Atkinson & Silva (2000), "Stochastic modeling of California ground
    /// motions", BSSA 90(2), 255–274, doi:10.1785/0119990064 — derived from finite-fault
    /// simulations of California earthquakes and checked against California strong-motion data:
    /// ```
    /// S(f) = (1 − ε)/(1 + (f/fa)²) + ε/(1 + (f/fb)²)
    /// log10 fa = 2.181 − 0.496 M,  log10 fb = 2.410 − 0.408 M,  log10 ε = 0.605 − 0.255 M
    /// ```
    /// (coefficients checked against an independent implementation,
    /// pstafford/StochasticGroundMotionSimulation.jl `src/fourier/PJSsource.jl`). The lower
    /// corner fa reflects the rupture length (finite-fault duration); above fb the spectrum is that
    /// of a ≈ 100-bar ω² source, so high-frequency motion (PGA) is nearly unchanged, while the
    /// intermediate band fa…fb — 0.16–0.9 Hz at M 6, the band of the 3-s P displacement Pd — is
    /// up to ≈ 2× lower than the single-corner spectrum: a point source "sees" the whole moment at
    /// once, a finite rupture does not. Source duration: **1/fa** (the choice of Boore & Thompson
    /// 2014, BSSA 104(5), 2541–2552, for this source). The same California attenuation is not
    /// used with it here (our path and site terms stay those of ``StochasticModelParameters``).
    case atkinsonSilva2000 = "atkinson-silva-2000"

    /// The corners (fa, fb) in Hz and ε of the Atkinson & Silva (2000) source at magnitude `m`.
    public static func atkinsonSilva2000Corners(momentMagnitude m: Double) -> (fa: Double, fb: Double, epsilon: Double) {
        (pow(10, 2.181 - 0.496 * m), pow(10, 2.410 - 0.408 * m), pow(10, 0.605 - 0.255 * m))
    }
}
