// Tests of RealFFT against the naive DFT twin (FFTReferenceDFT.swift), round trips, identities,
// buffer handling, errors and concurrent use.
import SeismicCore
import TestSupport
import Testing
@_spi(Testing) import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tolerance of the accuracy tests (foundation issue): relative error as defined by
/// `relativeError` (max absolute difference over max reference magnitude).
let fftTolerance = 1e-12

@Suite("RealFFT accuracy against the naive DFT")
struct FFTAccuracyTests {
    @Test("forward r2c matches the naive DFT to 1e-12", arguments: fftTestLengths)
    func forwardMatchesNaiveDFT(count: Int) throws {
        var rng = SplitMix64(seed: 0x5EED_0000 &+ UInt64(count))
        let x = rng.signedSamples(count)
        let fft = try RealFFT(count: count)
        let spectrum = try fft.forward(x)
        #expect(spectrum.count == count / 2 + 1)
        let error = relativeError(spectrum, ReferenceDFT.forward(x))
        #expect(error <= fftTolerance, "n = \(count): relative error \(error)")
        // Packing: X_0 and (even n) X_{n/2} are purely real.
        #expect(spectrum[0].imaginary == 0)
        if count % 2 == 0 { #expect(spectrum[count / 2].imaginary == 0) }
    }

    @Test("forward of a signal with a large mean stays within 1e-12", arguments: [17, 1024, 4093])
    func forwardWithOffset(count: Int) throws {
        var rng = SplitMix64(seed: 0x0FF5E7 &+ UInt64(count))
        let x = rng.signedSamples(count).map { 1000 + $0 }
        let error = relativeError(try RealFFT(count: count).forward(x), ReferenceDFT.forward(x))
        #expect(error <= fftTolerance, "n = \(count): relative error \(error)")
    }

    @Test("unnormalised inverse c2r matches the naive inverse DFT to 1e-12", arguments: fftTestLengths)
    func inverseMatchesNaiveInverseDFT(count: Int) throws {
        var rng = SplitMix64(seed: 0x1_0000_0000 &+ UInt64(count))
        // Random bins, including non-zero imaginary parts in X_0 and X_{n/2}, which the
        // documentation says are ignored (the reference ignores them).
        let spectrum = (0...(count / 2)).map { _ in Complex(real: rng.signedUniform(), imaginary: rng.signedUniform()) }
        let fft = try RealFFT(count: count)
        let x = try fft.inverse(spectrum, scaling: .unnormalized)
        let error = relativeError(x, ReferenceDFT.inverse(spectrum, count: count))
        #expect(error <= fftTolerance, "n = \(count): relative error \(error)")

        let scaled = try fft.inverse(spectrum, scaling: .byInverseCount)
        let scaledReference = ReferenceDFT.inverse(spectrum, count: count).map { $0 / Double(count) }
        #expect(relativeError(scaled, scaledReference) <= fftTolerance)
    }

    @Test("round trip x → forward → inverse/n returns x to 1e-13", arguments: fftTestLengths)
    func roundTrip(count: Int) throws {
        var rng = SplitMix64(seed: 0x2_0000_0000 &+ UInt64(count))
        let x = rng.signedSamples(count)
        let fft = try RealFFT(count: count)
        let spectrum = try fft.forward(x)
        let back = try fft.inverse(spectrum, scaling: .byInverseCount)
        #expect(relativeError(back, x) <= 1e-13, "n = \(count)")
        // Unnormalised: the round trip multiplies by n.
        let unscaled = try fft.inverse(spectrum, scaling: .unnormalized)
        #expect(relativeError(unscaled, x.map { $0 * Double(count) }) <= 1e-13, "n = \(count)")
    }

    @Test("Parseval: Σx² = (|X_0|² + 2Σ|X_k|² + [n even]|X_{n/2}|²) / n", arguments: [1, 2, 7, 64, 255, 1000, 4096])
    func parseval(count: Int) throws {
        var rng = SplitMix64(seed: 0x3_0000_0000 &+ UInt64(count))
        let x = rng.signedSamples(count)
        let spectrum = try RealFFT(count: count).forward(x)
        var timeEnergy = ReferenceDFT.Dot2()
        for value in x { timeEnergy.addProduct(value, value) }
        var frequencyEnergy = ReferenceDFT.Dot2()
        for k in spectrum.indices {
            let paired = k != 0 && !(count % 2 == 0 && k == count / 2)
            let weight = paired ? 2.0 : 1.0
            frequencyEnergy.addProduct(weight, spectrum[k].squaredMagnitude)
        }
        let ratio = frequencyEnergy.value / Double(count) / timeEnergy.value
        #expect(abs(ratio - 1) <= 1e-13, "n = \(count): ratio \(ratio)")
    }
}

@Suite("RealFFT known transforms and packing")
struct FFTKnownTransformTests {
    /// x_j = A cos(2πjk/n + φ) → X_k = (A n / 2) e^{iφ} for 0 < k < n/2; every other bin ≈ 0.
    @Test("a cosine at bin k lands in bin k with amplitude n/2 and its phase",
          arguments: [(64, 5), (100, 1), (257, 128), (1024, 511), (4096, 100)])
    func cosineLandsInItsBin(count: Int, bin: Int) throws {
        let amplitude = 2.5, phase = 0.75
        let x = (0..<count).map { j in
            amplitude * cos(2 * Double.pi * Double((j * bin) % count) / Double(count) + phase)
        }
        let spectrum = try RealFFT(count: count).forward(x)
        let expected = Complex(magnitude: amplitude * Double(count) / 2, phaseRadians: phase)
        let peakError = (spectrum[bin] - expected).magnitude / expected.magnitude
        #expect(peakError <= 1e-12, "bin \(bin): \(spectrum[bin]) vs \(expected)")
        for k in spectrum.indices where k != bin {
            #expect(spectrum[k].magnitude <= 1e-11 * expected.magnitude, "leak into bin \(k)")
        }
    }

    @Test("constant → only X_0 = n·c; alternating (even n) → only X_{n/2} = n·c")
    func dcAndNyquist() throws {
        let fft = try RealFFT(count: 8)
        let dc = try fft.forward([Double](repeating: 1.5, count: 8))
        #expect(dc[0] == Complex(real: 12, imaginary: 0))
        #expect(dc.dropFirst().allSatisfy { $0.magnitude <= 1e-13 })
        let alternating = try fft.forward((0..<8).map { $0 % 2 == 0 ? 2.0 : -2.0 })
        #expect(alternating[4] == Complex(real: 16, imaginary: 0))
        #expect(alternating.dropLast().allSatisfy { $0.magnitude <= 1e-13 })
    }

    /// Worked by hand from X_k = Σ x_j e^{−2πijk/4}: e^{−iπ/2} = −i, so
    /// X_1 = 1 − 2i − 3 + 4i = −2 + 2i (the sign of the exponent shows in Im X_1).
    @Test("x = [1, 2, 3, 4] → X = [10, −2+2i, −2] (sign convention and packing)")
    func handWorkedExample() throws {
        let fft = try RealFFT(count: 4)
        let spectrum = try fft.forward([1, 2, 3, 4])
        let expected = [Complex(real: 10, imaginary: 0), Complex(real: -2, imaginary: 2), Complex(real: -2, imaginary: 0)]
        #expect(relativeError(spectrum, expected) <= 1e-15)
        #expect(try fft.inverse(expected, scaling: .unnormalized) == [4, 8, 12, 16])
        // n = 5: X_k, k = 0…2, with X_2 a regular (paired) bin for odd n.
        let odd = try RealFFT(count: 5)
        #expect(odd.spectrumCount == 3)
        let x = [1.0, 0, 0, 0, 0]  // impulse: X_k = 1 for every k
        #expect(try odd.forward(x) == [Complex](repeating: Complex(real: 1, imaginary: 0), count: 3))
    }

    @Test("n = 1: X_0 = x_0, and the inverse returns it")
    func lengthOne() throws {
        let fft = try RealFFT(count: 1)
        #expect(fft.spectrumCount == 1)
        #expect(try fft.forward([-3.25]) == [Complex(real: -3.25, imaginary: 0)])
        #expect(try fft.inverse([Complex(real: -3.25, imaginary: 0)], scaling: .byInverseCount) == [-3.25])
    }

    @Test("bin frequencies: k·fs/n")
    func binFrequencies() throws {
        let fft = try RealFFT(count: 1024)
        #expect(fft.frequencyHz(ofBin: 0, samplingRateHz: 100) == 0)
        #expect(fft.frequencyHz(ofBin: 512, samplingRateHz: 100) == 50)
        #expect(fft.frequencyHz(ofBin: 3, samplingRateHz: 200) == 600.0 / 1024)
        #expect(fft.binSpacingHz(samplingRateHz: 100) == 100.0 / 1024)
        #expect(RealFFT.frequencyHz(ofBin: 10, count: 500, samplingRateHz: 50) == 1)
    }
}

@Suite("RealFFT buffers, determinism and errors")
struct FFTBufferTests {
    @Test("inverse never modifies its spectrum buffer; forward never modifies its input", arguments: [16, 17, 1024, 509])
    func inputsAreNotModified(count: Int) throws {
        var rng = SplitMix64(seed: 0x4_0000_0000 &+ UInt64(count))
        let fft = try RealFFT(count: count)
        let spectrumCount = count / 2 + 1
        let spectrum = UnsafeMutableBufferPointer<Complex>.allocate(capacity: spectrumCount)
        defer { spectrum.deallocate() }
        for k in 0..<spectrumCount {
            spectrum[k] = Complex(real: rng.signedUniform(), imaginary: rng.signedUniform())
        }
        let spectrumBefore = Array(spectrum)
        let samples = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        defer { samples.deallocate() }
        samples.initialize(repeating: .nan)
        try fft.inverse(UnsafeBufferPointer(spectrum), into: samples, scaling: .unnormalized)
        #expect(Array(spectrum) == spectrumBefore)
        #expect(samples.allSatisfy { $0.isFinite })

        let samplesBefore = Array(samples)
        try fft.forward(UnsafeBufferPointer(samples), into: spectrum)
        #expect(Array(samples) == samplesBefore)
    }

    /// A buffer 8 bytes off FFTW's SIMD alignment is staged through an aligned temporary, so the
    /// result is bit-identical to the aligned case (the same plan runs either way).
    @Test("misaligned buffers give bit-identical results", arguments: [16, 255, 1024, 4093])
    func misalignedBuffersAreBitIdentical(count: Int) throws {
        #expect([8, 16, 32, 64].contains(RealFFT.fftwSIMDAlignmentBytes))
        var rng = SplitMix64(seed: 0x5_0000_0000 &+ UInt64(count))
        let x = rng.signedSamples(count)
        let fft = try RealFFT(count: count)
        let alignedSpectrum = try fft.forward(x)
        let alignedInverse = try fft.inverse(alignedSpectrum, scaling: .byInverseCount)
        let spectrumCount = fft.spectrumCount

        for (inputOffset, outputOffset) in [(8, 0), (0, 8), (8, 8), (24, 40)] {
            let inputRaw = UnsafeMutableRawPointer.allocate(byteCount: 16 * (count + 8), alignment: 64)
            defer { inputRaw.deallocate() }
            let outputRaw = UnsafeMutableRawPointer.allocate(byteCount: 16 * (spectrumCount + 8), alignment: 64)
            defer { outputRaw.deallocate() }
            let input = UnsafeMutableBufferPointer(
                start: (inputRaw + inputOffset).bindMemory(to: Double.self, capacity: count), count: count)
            let output = UnsafeMutableBufferPointer(
                start: (outputRaw + outputOffset).bindMemory(to: Complex.self, capacity: spectrumCount),
                count: spectrumCount)
            _ = input.initialize(from: x)
            try fft.forward(UnsafeBufferPointer(input), into: output)
            #expect(Array(output) == alignedSpectrum, "forward, offsets \(inputOffset)/\(outputOffset)")

            // Inverse: spectrum read from `output` (possibly misaligned), samples into `input`.
            try fft.inverse(UnsafeBufferPointer(output), into: input, scaling: .byInverseCount)
            #expect(Array(input) == alignedInverse, "inverse, offsets \(outputOffset)/\(inputOffset)")
        }
    }

    @Test("array `into:` variants match the allocating ones and reuse the output")
    func intoVariants() throws {
        var rng = SplitMix64(seed: 6)
        let x = rng.signedSamples(100)
        let fft = try RealFFT(count: 100)
        var spectrum = [Complex](repeating: .zero, count: 51)
        try fft.forward(x, into: &spectrum)
        #expect(spectrum == (try fft.forward(x)))
        var back = [Double](repeating: 0, count: 100)
        try fft.inverse(spectrum, into: &back, scaling: .byInverseCount)
        #expect(back == (try fft.inverse(spectrum, scaling: .byInverseCount)))
        #expect(relativeError(back, x) <= 1e-13)
    }

    @Test("repeated transforms are bit-for-bit reproducible")
    func deterministic() throws {
        var rng = SplitMix64(seed: 7)
        let x = rng.signedSamples(4093)
        let first = try RealFFT(count: 4093).forward(x)
        let second = try RealFFT(count: 4093).forward(x)
        #expect(first == second)
    }

    @Test("RealFFT values of one length share the cached plans")
    func plansAreCached() throws {
        let a = try RealFFT(count: 96)
        let plansAfterFirst = RealFFT.cachedPlanCount
        let b = try RealFFT(count: 96)
        #expect(a.sharesPlans(with: b))
        #expect(!a.sharesPlans(with: try RealFFT(count: 97)))
        #expect(plansAfterFirst >= 2)
    }

    @Test("invalid lengths throw invalidCount", arguments: [0, -1, Int.min, Int(Int32.max) + 1, Int.max])
    func invalidCounts(count: Int) {
        #expect(throws: FFTError.invalidCount(count)) { try RealFFT(count: count) }
    }

    @Test("wrong buffer sizes throw sizeMismatch naming the buffer")
    func sizeMismatches() throws {
        let fft = try RealFFT(count: 10)
        #expect(throws: FFTError.sizeMismatch(buffer: .realInput, expected: 10, actual: 9)) {
            try fft.forward([Double](repeating: 0, count: 9))
        }
        #expect(throws: FFTError.sizeMismatch(buffer: .realInput, expected: 10, actual: 0)) {
            try fft.forward([])
        }
        var shortSpectrum = [Complex](repeating: .zero, count: 5)
        #expect(throws: FFTError.sizeMismatch(buffer: .spectrumOutput, expected: 6, actual: 5)) {
            try fft.forward([Double](repeating: 0, count: 10), into: &shortSpectrum)
        }
        #expect(throws: FFTError.sizeMismatch(buffer: .spectrumInput, expected: 6, actual: 10)) {
            try fft.inverse([Complex](repeating: .zero, count: 10), scaling: .unnormalized)
        }
        var longOutput = [Double](repeating: 0, count: 11)
        #expect(throws: FFTError.sizeMismatch(buffer: .realOutput, expected: 10, actual: 11)) {
            try fft.inverse([Complex](repeating: .zero, count: 6), into: &longOutput, scaling: .byInverseCount)
        }
        #expect(longOutput == [Double](repeating: 0, count: 11))
        // Buffer API, including an empty buffer (nil base address).
        #expect(throws: FFTError.sizeMismatch(buffer: .realInput, expected: 10, actual: 0)) {
            try fft.forward(UnsafeBufferPointer(start: nil, count: 0),
                            into: UnsafeMutableBufferPointer(start: nil, count: 0))
        }
        let description = FFTError.sizeMismatch(buffer: .spectrumInput, expected: 6, actual: 10).description
        #expect(description.contains("spectrumInput") && description.contains("6") && description.contains("10"))
    }

    @Test("overlapping input and output throw overlappingBuffers and write nothing")
    func overlappingBuffers() throws {
        let fft = try RealFFT(count: 8)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 64)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 256)
        let before = Array(UnsafeRawBufferPointer(start: raw, count: 256))
        // Addresses only: neither call reads or writes the memory before throwing.
        let samples = UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: Double.self), count: 8)
        let spectrum = UnsafeMutableBufferPointer(start: (raw + 48).assumingMemoryBound(to: Complex.self), count: 5)
        #expect(throws: FFTError.overlappingBuffers) {
            try fft.forward(UnsafeBufferPointer(samples), into: spectrum)
        }
        #expect(throws: FFTError.overlappingBuffers) {
            try fft.inverse(UnsafeBufferPointer(spectrum), into: samples, scaling: .unnormalized)
        }
        #expect(Array(UnsafeRawBufferPointer(start: raw, count: 256)) == before)
    }
}

@Suite("RealFFT under concurrency")
struct FFTConcurrencyTests {
    /// Many tasks create RealFFTs of lengths not used by other tests (so their plans are created
    /// here, concurrently, exercising the planner lock) and of shared lengths (racing on the cache
    /// and executing one plan from several threads), and check every result against the naive DFT.
    @Test("concurrent planning and execution give correct results")
    func concurrentPlanningAndExecution() async throws {
        let lengths = [37, 41, 43, 211, 223, 227, 229, 360, 384, 420, 448, 16, 17, 256, 257, 509]
        let taskCount = 96
        let worstError = await withTaskGroup(of: Double.self) { group in
            for task in 0..<taskCount {
                group.addTask {
                    let count = lengths[task % lengths.count]
                    var rng = SplitMix64(seed: 0x6_0000_0000 &+ UInt64(task))
                    let x = rng.signedSamples(count)
                    do {
                        let fft = try RealFFT(count: count)
                        var worst = 0.0
                        for _ in 0..<20 {
                            let spectrum = try fft.forward(x)
                            let back = try fft.inverse(spectrum, scaling: .byInverseCount)
                            worst = max(worst, relativeError(back, x))
                        }
                        let spectrum = try fft.forward(x)
                        return max(worst, relativeError(spectrum, ReferenceDFT.forward(x)))
                    } catch {
                        return .infinity
                    }
                }
            }
            var worst = 0.0
            for await error in group { worst = max(worst, error) }
            return worst
        }
        #expect(worstError <= fftTolerance, "worst relative error \(worstError)")
    }
}

extension FFTConcurrencyTests {
    /// Every task plans a length no other test uses, so all of these plans are created
    /// concurrently; without the planner lock FFTW's shared planner state gets corrupted.
    @Test("concurrent first-time planning of 64 distinct lengths")
    func concurrentFirstTimePlanning() async throws {
        let lengths = Array(600..<664)
        let worstError = await withTaskGroup(of: Double.self) { group in
            for count in lengths {
                group.addTask {
                    var rng = SplitMix64(seed: 0x7_0000_0000 &+ UInt64(count))
                    let x = rng.signedSamples(count)
                    do {
                        let fft = try RealFFT(count: count)
                        let spectrum = try fft.forward(x)
                        let back = try fft.inverse(spectrum, scaling: .byInverseCount)
                        return max(relativeError(spectrum, ReferenceDFT.forward(x)), relativeError(back, x))
                    } catch {
                        return .infinity
                    }
                }
            }
            var worst = 0.0
            for await error in group { worst = max(worst, error) }
            return worst
        }
        #expect(worstError <= fftTolerance, "worst relative error \(worstError)")
    }
}

@Suite("FFT sizes and Complex")
struct FFTSizeAndComplexTests {
    /// Brute-force twin: strip factors 2, 3, 5, 7 and see whether 1 remains.
    static func isSevenSmooth(_ value: Int) -> Bool {
        var rest = value
        for p in [2, 3, 5, 7] { while rest % p == 0 { rest /= p } }
        return rest == 1
    }

    @Test("goodSize(atLeast:) is the next 2^a·3^b·5^c·7^d")
    func goodSizeMatchesBruteForce() throws {
        for minimum in 0...5000 {
            var expected = max(minimum, 1)
            while !Self.isSevenSmooth(expected) { expected += 1 }
            #expect(try RealFFT.goodSize(atLeast: minimum) == expected, "minimum \(minimum)")
        }
        #expect(try RealFFT.goodSize(atLeast: 4093) == 4096)
        #expect(try RealFFT.goodSize(atLeast: 4097) == 4116)  // 2²·3·7³
        #expect(try RealFFT.goodSize(atLeast: -7) == 1)
        #expect(try RealFFT.goodSize(atLeast: 1 << 30) == 1 << 30)
        #expect(try RealFFT.goodSize(atLeast: 2_144_153_025) == 2_144_153_025)
        #expect(throws: FFTError.invalidCount(2_144_153_026)) { try RealFFT.goodSize(atLeast: 2_144_153_026) }
        #expect(throws: FFTError.invalidCount(Int.max)) { try RealFFT.goodSize(atLeast: Int.max) }
    }

    @Test("Complex is layout-compatible with fftw_complex (two Doubles, stride 16)")
    func complexLayout() {
        #expect(MemoryLayout<Complex>.size == 16)
        #expect(MemoryLayout<Complex>.stride == 16)
        #expect(MemoryLayout<Complex>.alignment == 8)
        #expect(MemoryLayout<Complex>.offset(of: \.real) == 0)
        #expect(MemoryLayout<Complex>.offset(of: \.imaginary) == 8)
    }

    @Test("Complex arithmetic, magnitude, phase")
    func complexArithmetic() {
        let a = Complex(real: 1, imaginary: 2), b = Complex(real: 3, imaginary: 4)
        #expect(a * b == Complex(real: -5, imaginary: 10))
        #expect(a + b == Complex(real: 4, imaginary: 6))
        #expect(b - a == Complex(real: 2, imaginary: 2))
        #expect(-a == Complex(real: -1, imaginary: -2))
        #expect(a * 2 == Complex(real: 2, imaginary: 4) && 2 * a == a * 2)
        #expect(a.conjugate == Complex(real: 1, imaginary: -2))
        #expect(b.magnitude == 5 && b.squaredMagnitude == 25)
        let huge = Complex(real: 1e300, imaginary: 1e300).magnitude  // re² would overflow
        #expect(huge.isFinite && abs(huge / (1e300 * 2.0.squareRoot()) - 1) <= 1e-15)
        #expect(Complex(real: 0, imaginary: 1).phaseRadians == Double.pi / 2)
        #expect(Complex(real: -1, imaginary: 0).phaseRadians == Double.pi)
        let polar = Complex(magnitude: 2, phaseRadians: Double.pi / 3)
        #expect(abs(polar.real - 1) <= 1e-15 && abs(polar.imaginary - 3.0.squareRoot()) <= 1e-15)
        var c = a
        c += b; c -= a; c *= a; c *= 0.5
        #expect(c == Complex(real: -2.5, imaginary: 5))
        #expect(Complex(real: 1, imaginary: -2.5).description == "1.0-2.5i")
        #expect(Complex(real: 1, imaginary: 2.5).description == "1.0+2.5i")
    }
}
