// Transform-length and frequency-axis helpers for RealFFT.

extension RealFFT {
    /// The smallest length `m ≥ minimumCount` of the form `2^a · 3^b · 5^c · 7^d`, for which FFTW
    /// has fast codelets. Zero-padding a window to this length avoids the slow large-prime paths
    /// (e.g. n = 4093 is ≈ 20× slower than n = 4096 here).
    ///
    /// Returns 1 for `minimumCount ≤ 1`.
    ///
    /// - Throws: ``FFTError/invalidCount(_:)`` if the answer would not fit FFTW's `int`, i.e. for
    ///   `minimumCount > 2_144_153_025` (the largest 7-smooth number ≤ `Int32.max`).
    /// - Complexity: O(log³ minimumCount).
    public static func goodSize(atLeast minimumCount: Int) throws(FFTError) -> Int {
        guard minimumCount > 1 else { return 1 }
        let limit = Int(Int32.max)
        guard minimumCount <= limit else { throw .invalidCount(minimumCount) }
        var best = Int.max
        // Enumerate 3^b·5^c·7^d ≤ limit, then complete each with the smallest power of two.
        var p7 = 1
        while p7 <= limit, p7 < best {
            var p5 = p7
            while p5 <= limit, p5 < best {
                var p3 = p5
                while p3 <= limit, p3 < best {
                    var candidate = p3
                    while candidate < minimumCount { candidate *= 2 }  // ≤ 2·limit: no overflow.
                    if candidate < best { best = candidate }
                    p3 *= 3
                }
                p5 *= 5
            }
            p7 *= 7
        }
        guard best <= limit else { throw .invalidCount(minimumCount) }
        return best
    }

    /// Frequency in Hz of one-sided bin `bin` of a length-`count` transform of samples taken at
    /// `samplingRateHz`: `bin · fs / n`. Bins `0…count/2` run from 0 Hz to (even `n`) the Nyquist
    /// frequency `fs/2`. The bin spacing (frequency resolution) is `fs / n`.
    @inlinable
    public static func frequencyHz(ofBin bin: Int, count: Int, samplingRateHz: Double) -> Double {
        Double(bin) * samplingRateHz / Double(count)
    }

    /// Frequency in Hz of one-sided bin `bin` of this transform: `bin · samplingRateHz / count`.
    @inlinable
    public func frequencyHz(ofBin bin: Int, samplingRateHz: Double) -> Double {
        Self.frequencyHz(ofBin: bin, count: count, samplingRateHz: samplingRateHz)
    }

    /// Bin spacing `fs / n` in Hz.
    @inlinable
    public func binSpacingHz(samplingRateHz: Double) -> Double {
        samplingRateHz / Double(count)
    }
}
