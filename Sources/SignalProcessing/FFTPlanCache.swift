// FFTW plans: ownership, the process-wide plan cache, and the one lock around FFTW's planner.
//
// FFTW manual, "Thread safety" (https://www.fftw.org/fftw3_doc/Thread-safety.html): "the only
// thread-safe routine in FFTW is fftw_execute (and the new-array variants thereof). All other
// routines (e.g. the planner) should only be called from one thread at a time." The planner
// shares wisdom and twiddle tables between plans, so two concurrent `fftw_plan_*` calls (or a
// `fftw_plan_*` racing an `fftw_destroy_plan`) corrupt memory. Therefore:
//
// - EVERY FFTW call other than `fftw_execute*` in this process goes through `FFTWPlanner.plans`
//   (a `Synchronization.Mutex`): planning, `fftw_destroy_plan`, `fftw_malloc`/`fftw_free` of the
//   planning arrays and the one-off `fftw_alignment_of` probe. Code elsewhere in QuakeWarn that
//   needs another FFTW transform kind must add it here rather than call the planner itself.
// - Plans are executed with the new-array functions `fftw_execute_dft_r2c` / `_c2r`, without the
//   lock. "Since the plan is not modified by fftw_execute, it is safe to execute the same plan in
//   parallel by multiple threads" (same section), as long as each call has its own arrays.
internal import CFFTW
import Synchronization

/// The transform a cached plan computes.
enum FFTWPlanKind: Hashable, Sendable, CustomStringConvertible {
    /// `fftw_plan_dft_r2c_1d(n, …, FFTW_ESTIMATE)`: n reals → n/2+1 complex.
    case realForward
    /// `fftw_plan_dft_c2r_1d(n, …, FFTW_ESTIMATE | FFTW_PRESERVE_INPUT)`: n/2+1 complex → n reals.
    case realInverse

    var description: String {
        switch self {
        case .realForward: "r2c"
        case .realInverse: "c2r"
        }
    }
}

/// Cache key. The planner flags are fixed per kind (see ``FFTWPlanKind``), so they are not part of it.
struct FFTWPlanKey: Hashable, Sendable {
    var count: Int
    var kind: FFTWPlanKind
}

/// Owns one FFTW plan for out-of-place 1-D real transforms of length ``count``, planned on
/// `fftw_malloc`ed (hence SIMD-aligned) arrays, and executes it on caller arrays with FFTW's
/// new-array interface.
///
/// `@unchecked Sendable` because the only state is an immutable `fftw_plan` pointer and FFTW
/// guarantees that executing one plan from several threads at once, each with its own arrays, is
/// safe ("Thread safety", FFTW manual). Destruction takes the planner lock (see ``deinit``).
final class FFTWPlan: @unchecked Sendable {
    let count: Int
    let kind: FFTWPlanKind
    /// Number of complex bins of the half spectrum, `count / 2 + 1`.
    let spectrumCount: Int
    /// Never mutated after `init`; FFTW does not modify a plan when executing it.
    private let plan: fftw_plan

    /// Called only by ``FFTWPlanner/plan(count:kind:)``, with the planner lock held.
    fileprivate init(count: Int, kind: FFTWPlanKind, plan: fftw_plan) {
        self.count = count
        self.kind = kind
        self.spectrumCount = count / 2 + 1
        self.plan = plan
    }

    /// `fftw_destroy_plan` is a planner routine, so it runs under the planner lock.
    ///
    /// This must never run while the lock is held (`Mutex` is not recursive). The cache never
    /// removes an entry inside the lock, so the last reference to a plan can only be dropped
    /// outside it; in practice cached plans live until the process ends, like FFTW's own wisdom.
    deinit {
        let plan = self.plan
        FFTWPlanner.plans.withLock { _ in fftw_destroy_plan(plan) }
    }

    /// r2c: reads `count` doubles from `input`, writes `spectrumCount` bins to `output`.
    ///
    /// Preconditions (checked by ``RealFFT``): the buffers have those sizes and do not overlap.
    /// Buffers whose address is not a multiple of FFTW's SIMD alignment are staged through an
    /// aligned temporary (see ``FFTWPlanner/isSIMDAligned(_:)``), so the same plan, and hence the
    /// same bit-exact result, is used for every buffer address.
    func executeRealForward(_ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Complex>) {
        if !FFTWPlanner.isSIMDAligned(input) {
            FFTWPlanner.withAlignedTemporary(of: Double.self, count: count) { staged in
                staged.update(from: input, count: count)
                executeRealForward(staged, output)
            }
        } else if !FFTWPlanner.isSIMDAligned(output) {
            FFTWPlanner.withAlignedTemporary(of: Complex.self, count: spectrumCount) { staged in
                executeRealForward(input, staged)
                output.update(from: staged, count: spectrumCount)
            }
        } else {
            output.withMemoryRebound(to: fftw_complex.self, capacity: spectrumCount) { out in
                // An out-of-place r2c plan never writes its input (FFTW_PRESERVE_INPUT is the
                // default for r2c), so the mutable cast only satisfies the C prototype.
                fftw_execute_dft_r2c(plan, UnsafeMutablePointer(mutating: input), out)
            }
        }
    }

    /// c2r: reads `spectrumCount` bins from `input` (left unmodified: the plan was made with
    /// FFTW_PRESERVE_INPUT), writes `count` unnormalised samples to `output`.
    /// Same preconditions and alignment staging as ``executeRealForward(_:_:)``.
    func executeRealInverse(_ input: UnsafePointer<Complex>, _ output: UnsafeMutablePointer<Double>) {
        if !FFTWPlanner.isSIMDAligned(input) {
            FFTWPlanner.withAlignedTemporary(of: Complex.self, count: spectrumCount) { staged in
                staged.update(from: input, count: spectrumCount)
                executeRealInverse(staged, output)
            }
        } else if !FFTWPlanner.isSIMDAligned(output) {
            FFTWPlanner.withAlignedTemporary(of: Double.self, count: count) { staged in
                executeRealInverse(input, staged)
                output.update(from: staged, count: count)
            }
        } else {
            UnsafeMutablePointer(mutating: input).withMemoryRebound(to: fftw_complex.self,
                                                                    capacity: spectrumCount) { spectrum in
                fftw_execute_dft_c2r(plan, spectrum, output)
            }
        }
    }
}

/// The process-wide plan cache and the lock that serialises FFTW's planner.
enum FFTWPlanner {
    /// The planner lock and, under it, every plan made so far, keyed by (length, kind).
    ///
    /// Entries are never evicted: a process uses a handful of lengths (window sizes), a plan's
    /// tables are O(n) in size, and re-planning (milliseconds, under the lock) must not happen on
    /// a hot path.
    static let plans = Mutex<[FFTWPlanKey: FFTWPlan]>([:])

    /// Returns the cached plan for (`count`, `kind`), creating it under the lock on first use.
    ///
    /// Plans use `FFTW_ESTIMATE`: planning is fast and reads no data, never overwrites the
    /// planning arrays (`FFTW_MEASURE` does), and picks the same algorithm on every run, so results
    /// are bit-for-bit reproducible across runs and processes (replay and live must agree; with
    /// `FFTW_MEASURE` the chosen algorithm, and the last bits of the result, depend on timing).
    ///
    /// - Throws: ``FFTError/invalidCount(_:)`` for `count` outside `1...Int32.max`,
    ///   ``FFTError/planCreationFailed(count:kind:)`` if FFTW returns NULL.
    static func plan(count: Int, kind: FFTWPlanKind) throws(FFTError) -> FFTWPlan {
        guard count >= 1, count <= Int(Int32.max) else { throw .invalidCount(count) }
        // Internal invariant (not input-dependent): `Complex` must be layout-compatible with
        // `fftw_complex` because spectra are handed to FFTW in place.
        precondition(MemoryLayout<Complex>.size == 16 && MemoryLayout<Complex>.stride == 16
                     && MemoryLayout<Complex>.offset(of: \.real) == 0
                     && MemoryLayout<Complex>.offset(of: \.imaginary) == 8
                     && MemoryLayout<fftw_complex>.stride == 16,
                     "Complex is not layout-compatible with fftw_complex")
        let key = FFTWPlanKey(count: count, kind: kind)
        // Swift 6 will not let a value be returned out of `withLock` unless it can be sent, so
        // the result is written to a captured variable instead (swift-platform-notes.md).
        var outcome: Result<FFTWPlan, FFTError> = .failure(.planCreationFailed(count: count, kind: "\(kind)"))
        plans.withLock { cache in
            if let cached = cache[key] {
                outcome = .success(cached)
                return
            }
            guard let raw = makePlanLocked(count: count, kind: kind) else { return }
            let made = FFTWPlan(count: count, kind: kind, plan: raw)
            cache[key] = made
            outcome = .success(made)
        }
        return try outcome.get()
    }

    /// Creates a raw FFTW plan. Must be called with ``plans`` locked.
    ///
    /// The planning arrays come from `fftw_alloc_*`, so their `fftw_alignment_of` is 0 and the plan
    /// may use SIMD codelets; new-array execution then requires arrays with alignment 0 too
    /// ("New-array Execute Functions", FFTW manual), which ``FFTWPlan`` ensures by staging.
    /// `FFTW_ESTIMATE` does not touch the arrays, so they are freed right after planning.
    private static func makePlanLocked(count: Int, kind: FFTWPlanKind) -> fftw_plan? {
        guard let real = fftw_alloc_real(count) else { return nil }
        defer { fftw_free(real) }
        guard let spectrum = fftw_alloc_complex(count / 2 + 1) else { return nil }
        defer { fftw_free(spectrum) }
        let n = Int32(count)  // count <= Int32.max was checked by the caller.
        switch kind {
        case .realForward:
            return fftw_plan_dft_r2c_1d(n, real, spectrum, UInt32(FFTW_ESTIMATE))
        case .realInverse:
            // c2r destroys its input by default; FFTW_PRESERVE_INPUT is supported for 1-D c2r
            // ("Planner Flags", FFTW manual) and costs ≈ 10–45 % on this machine (n = 512…65536).
            return fftw_plan_dft_c2r_1d(n, spectrum, real, UInt32(FFTW_ESTIMATE | FFTW_PRESERVE_INPUT))
        }
    }

    /// FFTW's SIMD alignment modulus in bytes: new-array execution of a plan made on `fftw_malloc`
    /// arrays needs buffers whose address is a multiple of it. 16 for FFTW 3.3.10 built with SSE2/
    /// AVX (the Debian build); 8 (i.e. every `Double` address) for a build without SIMD.
    ///
    /// Found once, under the planner lock, by asking `fftw_alignment_of` about offsets of an
    /// `fftw_malloc`ed block, so the check on the hot path is plain integer arithmetic and calls no
    /// FFTW routine that the manual does not declare thread-safe.
    static let simdAlignmentBytes: Int = plans.withLock { _ in
        let probeCount = 32  // 256 bytes: covers any FFTW SIMD alignment (at most 64 bytes).
        guard let base = fftw_alloc_real(probeCount) else { return stagingAlignmentBytes }
        defer { fftw_free(base) }
        var modulus = MemoryLayout<Double>.stride
        while modulus < probeCount * MemoryLayout<Double>.stride,
              fftw_alignment_of(base + modulus / MemoryLayout<Double>.stride) != 0 {
            modulus *= 2
        }
        return min(modulus, stagingAlignmentBytes)
    }

    /// Alignment of the staging temporaries: a multiple of every FFTW SIMD alignment.
    static let stagingAlignmentBytes = 64

    /// Whether `pointer` has the alignment the cached plans were made with.
    @inline(__always)
    static func isSIMDAligned<T>(_ pointer: UnsafePointer<T>) -> Bool {
        UInt(bitPattern: pointer) % UInt(simdAlignmentBytes) == 0
    }

    @inline(__always)
    static func isSIMDAligned<T>(_ pointer: UnsafeMutablePointer<T>) -> Bool {
        isSIMDAligned(UnsafePointer(pointer))
    }

    /// Runs `body` with an uninitialised, ``stagingAlignmentBytes``-aligned buffer of `count`
    /// trivial elements. `withUnsafeTemporaryAllocation` uses the stack when it can and the heap
    /// otherwise, so the misaligned path may allocate; the aligned path never does.
    @inline(__always)
    static func withAlignedTemporary<T: BitwiseCopyable>(of type: T.Type, count: Int,
                                                         _ body: (UnsafeMutablePointer<T>) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: count * MemoryLayout<T>.stride,
                                      alignment: stagingAlignmentBytes) { raw in
            let typed = raw.bindMemory(to: T.self)
            guard let base = typed.baseAddress else { return }  // count >= 1: never nil.
            body(base)
        }
    }

    /// Number of cached plans (for tests).
    static var cachedPlanCount: Int { plans.withLock { $0.count } }
}
