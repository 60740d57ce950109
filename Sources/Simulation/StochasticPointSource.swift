#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The body-wave types the simulator makes.
public enum SeismicWave: String, Sendable, Hashable, CaseIterable {
    /// P wave: propagates at α, radial (along the ray) particle motion.
    case p
    /// S wave: propagates at β; SH on the transverse, SV in the radial–vertical plane.
    case s
}

/// Fourier amplitude spectrum of ground acceleration of a stochastic point source
/// (Boore 2003, "Simulation of ground motion using the stochastic method", Pure Appl. Geophys.
/// 160, 635–676), for the S wave and, with the P-wave changes listed below, for the P wave.
///
/// ## The model (Boore 2003, eq. 1 and the sections named below)
/// ```
/// Y(M0, R, f) = E(M0, f) · P(R, f) · G(f) · I(f)
/// E(M0, f)    = C · M0 · S(f),        C = ⟨R⟩ · V · F / (4π ρ c³ R0)        (source)
/// S(f)        = 1 / (1 + (f/f0)²)                                          (Brune ω², "Source";
///               or the Atkinson & Silva 2000 two-corner shape, ``SourceSpectrumModel``)
/// f0          = 4.906e6 · β · (Δσ / M0)^(1/3)     [β km/s, Δσ bar, M0 dyne·cm]
/// M0          = 10^(1.5 Mw + 16.05) dyne·cm        (Hanks & Kanamori 1979; 10^(1.5Mw+9.05) N·m)
/// P(R, f)     = Z(R) · exp(−π f R / (Q(f) c)),   Q(f) = Q0 · f^η                 ("Path")
/// G(f)        = A(f) · exp(−π κ0 f)              (A: generic V_S30 760 m/s rock by default; "Site")
/// I(f)        = (2π f)²                          (acceleration; "Type of motion")
/// ```
/// with R the hypocentral distance in km, R0 = 1 km, c = β (S) or α (P), ⟨R⟩ = 0.55 (S) or
/// 0.52 (P), V = 1/√2 for one S component (SH or SV) and 1 for P, F = 2. With these units
/// `C · M0 · S(f) · Z(R)` is a displacement spectrum in cm·s after multiplication by 1e-20
/// (dyne·cm / (g/cm³ · (km/s)³ · km) = 1e-20 cm·s); we return acceleration spectra in m/s
/// (i.e. (m/s²)·s), so the result carries a further factor 0.01.
///
/// **P wave** (each choice physical, none fitted to our magnitude estimator):
/// - corner ``StochasticModelParameters/pCornerFrequencyRatio`` × f0_S, default 1.5 (Madariaga
///   1976); the level carries α³ instead of β³, ⟨R_P⟩ and V = 1 (the whole motion along the ray);
/// - duration: the rupture duration 1/f0_S plus the path term, as for S (``durationSeconds(_:hypocentralDistanceKilometers:)``);
/// - geometric spreading 1/R at all distances (direct P; ``geometricSpreading(_:hypocentralDistanceKilometers:)``);
/// - site amplification A_S(f·β/α) (quarter-wavelength on a V_P profile with constant V_P/V_S);
/// - optional factor ``StochasticModelParameters/pAmplitudeScale`` (default 1, for drills).
/// Radiated energies at the source follow `E_c ∝ ⟨R_c⟩² f0_c³ / (ρ c⁵)` (integrating the Brune
/// velocity spectrum), so the defaults give `E_S/E_P = (0.55/0.52)² · (1/1.5)³ · (√3)⁵ ≈ 5.2`
/// (the earlier √3 corner ratio gave ≈ 3.4; observed ratios are ≈ 5–25, Boatwright & Fletcher 1984).
///
/// Before this revision P used √3 f0_S, 1/f0_P, the S spreading and the S site term; the Pd
/// magnitudes of the records were then 0.6–0.9 units high at 20–60 km. See docs/validation.md
/// for the remaining error.
///
/// S-wave geometric spreading Z(R) (Boore 2003 "Path"; piecewise form of Atkinson & Boore 1995, BSSA
/// 85, 17–30, for eastern North America — used here for lack of a Sichuan-specific form):
/// ```
/// Z(R) = R0/R                       R ≤ 70 km
///      = R0/70                      70 < R ≤ 130 km
///      = (R0/70) · (130/R)^0.5      R > 130 km
/// ```
/// Distances below 1 km are treated as 1 km (the point source has no finite-fault saturation).
///
/// Simplifications: a generic rock site amplification (``SiteAmplification``), no f_max filter, Q_P = Q_S, the
/// same path duration for P and S, a homogeneous whole space for travel times (straight rays), a
/// point source (Pd grows as M0^(2/3) with M for constant stress drop, faster than the empirical
/// Pd relations: the main remaining bias of the default Brune source; the two-corner
/// ``SourceSpectrumModel/atkinsonSilva2000`` source, a published finite-fault equivalent, brings the
/// 3-s Pd within ≈ 0.25 (log) of Wu & Zhao 2006 for M 5–6.5, docs/validation.md).
public struct StochasticPointSource: Sendable, Equatable {
    /// Moment magnitude Mw.
    public var momentMagnitude: Double
    public var parameters: StochasticModelParameters

    public init(momentMagnitude: Double, parameters: StochasticModelParameters = StochasticModelParameters()) {
        self.momentMagnitude = momentMagnitude
        self.parameters = parameters
    }

    /// Seismic moment in dyne·cm: `10^(1.5 Mw + 16.05)` (Hanks & Kanamori 1979).
    public var seismicMomentDyneCentimeters: Double { pow(10, 1.5 * momentMagnitude + 16.05) }

    /// Seismic moment in N·m: `10^(1.5 Mw + 9.05)`.
    public var seismicMomentNewtonMeters: Double { pow(10, 1.5 * momentMagnitude + 9.05) }

    /// S-wave (Brune) corner frequency in Hz, `f0 = 4.906e6 · β · (Δσ/M0)^(1/3)` (Boore 2003,
    /// source section; β km/s, Δσ bar, M0 dyne·cm).
    public var sCornerFrequencyHz: Double {
        4.906e6 * parameters.shearVelocityKilometersPerSecond
            * cbrt(parameters.stressDropBars / seismicMomentDyneCentimeters)
    }

    /// The source-spectrum shape S(f) of `wave` (1 at f → 0): Brune `1/(1 + (f/f0)²)` with
    /// ``cornerFrequencyHz(_:)``, or the Atkinson & Silva (2000) two-corner shape
    /// (``SourceSpectrumModel/atkinsonSilva2000``) whose corners fa, fb are, for P, multiplied by
    /// ``StochasticModelParameters/pCornerFrequencyRatio`` (the same Madariaga 1976 ratio as for the
    /// single corner; ε unchanged).
    public func sourceShape(_ wave: SeismicWave, frequencyHz f: Double) -> Double {
        switch parameters.sourceModel {
        case .brune:
            let x = f / cornerFrequencyHz(wave)
            return 1 / (1 + x * x)
        case .atkinsonSilva2000:
            let c = SourceSpectrumModel.atkinsonSilva2000Corners(momentMagnitude: momentMagnitude)
            let ratio = wave == .p ? parameters.pCornerFrequencyRatio : 1
            let xa = f / (c.fa * ratio), xb = f / (c.fb * ratio)
            return (1 - c.epsilon) / (1 + xa * xa) + c.epsilon / (1 + xb * xb)
        }
    }

    /// The lowest corner of `wave`'s source spectrum in Hz: ``cornerFrequencyHz(_:)`` (Brune) or
    /// fa (× the P ratio for P) for Atkinson & Silva (2000). Sets the synthesis padding.
    public func lowestCornerFrequencyHz(_ wave: SeismicWave) -> Double {
        switch parameters.sourceModel {
        case .brune: return cornerFrequencyHz(wave)
        case .atkinsonSilva2000:
            let fa = SourceSpectrumModel.atkinsonSilva2000Corners(momentMagnitude: momentMagnitude).fa
            return wave == .p ? fa * parameters.pCornerFrequencyRatio : fa
        }
    }

    /// Source duration in seconds: 1/f0_S (Brune; Hanks & McGuire 1981 as used by Boore 2003) or
    /// 1/fa (Atkinson & Silva 2000, as used by Boore & Thompson 2014), for P and S alike.
    public var sourceDurationSeconds: Double {
        switch parameters.sourceModel {
        case .brune: return 1 / sCornerFrequencyHz
        case .atkinsonSilva2000: return 1 / SourceSpectrumModel.atkinsonSilva2000Corners(momentMagnitude: momentMagnitude).fa
        }
    }

    /// Brune corner frequency of `wave` in Hz (P: ``StochasticModelParameters/pCornerFrequencyRatio`` × f0_S).
    public func cornerFrequencyHz(_ wave: SeismicWave) -> Double {
        switch wave {
        case .s: sCornerFrequencyHz
        case .p: sCornerFrequencyHz * parameters.pCornerFrequencyRatio
        }
    }

    /// Propagation speed of `wave` in km/s.
    public func velocityKilometersPerSecond(_ wave: SeismicWave) -> Double {
        switch wave {
        case .s: parameters.shearVelocityKilometersPerSecond
        case .p: parameters.compressionalVelocityKilometersPerSecond
        }
    }

    /// Ground-motion duration `T_gm = 1/f0_S + b·R` in seconds (Boore 2003, duration section;
    /// b = ``StochasticModelParameters/pathDurationSecondsPerKilometer``, R hypocentral km).
    ///
    /// The source term is the **rupture duration** 1/f0_S (Hanks & McGuire 1981, as used by
    /// Boore 2003) for P **and** S: the rupture lasts as long whichever wave it radiates; the higher
    /// P corner (``StochasticModelParameters/pCornerFrequencyRatio``) comes from the radiation of a
    /// finite crack (Madariaga 1976), not from a shorter rupture. (Before this was fixed the P window
    /// used 1/f0_P, packing the same P energy into a shorter time.)
    /// With ``SourceSpectrumModel/atkinsonSilva2000`` the source term is 1/fa (``sourceDurationSeconds``).
    public func durationSeconds(_ wave: SeismicWave, hypocentralDistanceKilometers r: Double) -> Double {
        sourceDurationSeconds + parameters.pathDurationSecondsPerKilometer * Self.effectiveDistance(r)
    }

    /// Geometric spreading Z(R) for R in km (R0 = 1 km), piecewise as in the type's documentation.
    public static func geometricSpreading(hypocentralDistanceKilometers r: Double) -> Double {
        let r = effectiveDistance(r)
        if r <= 70 { return 1 / r }
        if r <= 130 { return 1.0 / 70 }
        return (1.0 / 70) * (130 / r).squareRoot()
    }

    /// Geometric spreading of `wave`: S as ``geometricSpreading(hypocentralDistanceKilometers:)``;
    /// P as a direct body wave, `R0/R` at every distance. The flat and `R^−0.5` segments of the S
    /// form (Atkinson & Boore 1995) describe the post-critical Moho reflections and Lg that build
    /// the S-wave (and Lg) peak beyond ≈ 70 km; the first seconds of P used by early warning are
    /// the direct (Pg) wave, which those reflections reach only later (Pn, the first arrival beyond
    /// the crossover distance, decays faster than 1/R, so 1/R is still an upper bound).
    public static func geometricSpreading(_ wave: SeismicWave, hypocentralDistanceKilometers r: Double) -> Double {
        switch wave {
        case .s: geometricSpreading(hypocentralDistanceKilometers: r)
        case .p: 1 / effectiveDistance(r)
        }
    }

    /// Distances below 1 km are treated as 1 km.
    static func effectiveDistance(_ r: Double) -> Double { max(r, 1) }

    /// The frequency-independent factor `C · M0 · 1e-20 · 0.01` of `wave` for one component, in
    /// m·s (displacement spectral level at R0 = 1 km, before Z(R)).
    public func spectralLevelMeterSeconds(_ wave: SeismicWave) -> Double {
        let p = parameters
        let c = velocityKilometersPerSecond(wave)
        let radiation: Double
        let partition: Double
        let scale: Double
        switch wave {
        case .s: (radiation, partition, scale) = (p.sRadiationCoefficient, p.horizontalPartition, 1)
        case .p: (radiation, partition, scale) = (p.pRadiationCoefficient, 1, p.pAmplitudeScale)
        }
        let constant = radiation * partition * p.freeSurfaceFactor
            / (4 * Double.pi * p.densityGramsPerCubicCentimeter * c * c * c * 1)
        return scale * constant * seismicMomentDyneCentimeters * 1e-20 * 0.01
    }

    /// Fourier amplitude of ground acceleration of one component of `wave`, in m/s, at
    /// `frequencyHz` and hypocentral distance `r` km: Y(M0, R, f) of the type's documentation.
    /// Zero at f = 0.
    public func accelerationSpectrum(_ wave: SeismicWave, frequencyHz f: Double,
                                     hypocentralDistanceKilometers r: Double) -> Double {
        guard f > 0 else { return 0 }
        let rr = Self.effectiveDistance(r)
        let source: Double
        switch parameters.sourceModel {
        case .brune:
            // Written as before the two-corner option existed, so Brune records stay byte-identical.
            let f0 = cornerFrequencyHz(wave)
            source = spectralLevelMeterSeconds(wave) / (1 + (f / f0) * (f / f0))
        case .atkinsonSilva2000:
            source = spectralLevelMeterSeconds(wave) * sourceShape(wave, frequencyHz: f)
        }
        let c = velocityKilometersPerSecond(wave)
        // π f R / (Q0 f^η c) written as π f^(1−η) R / (Q0 c): finite as f → 0.
        let anelastic = exp(-Double.pi * pow(f, 1 - parameters.qExponent) * rr / (parameters.qZero * c))
        // Site amplification: the quarter-wavelength amplification is computed on the S profile.
        // For P the relevant profile is V_P; with V_P/V_S constant in the profile (our Poisson
        // assumption) the P quarter-wavelength depth at f is the S one at f·β/α and the impedance
        // ratios are the same, so A_P(f) = A_S(f·β/α) (Boore 2003 "Site effects"; Joyner et al. 1981).
        let siteFrequency = wave == .p
            ? f * parameters.shearVelocityKilometersPerSecond / parameters.compressionalVelocityKilometersPerSecond : f
        let site = exp(-Double.pi * parameters.kappaSeconds * f)
            * parameters.siteAmplification.amplification(frequencyHz: siteFrequency,
                                                         sourceDensity: parameters.densityGramsPerCubicCentimeter,
                                                         sourceVelocity: parameters.shearVelocityKilometersPerSecond)
        let omega = 2 * Double.pi * f
        return source * Self.geometricSpreading(wave, hypocentralDistanceKilometers: rr) * anelastic * site * omega * omega
    }
}
