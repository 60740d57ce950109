import Benchmark
import Foundation
import SignalProcessing

/// FFT benchmarks: one real forward transform (r2c) per iteration, plan cached and buffers reused,
/// as the station-parameter stage uses it. `scripts/compare-references.sh` times NumPy's
/// `numpy.fft.rfft` on the same lengths in the same run.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    for n in [512, 4096, 65536] {
        Benchmark("RealFFT forward n=\(n)") { benchmark in
            let fft = try RealFFT(count: n)
            var input = [Double](repeating: 0, count: n)
            for i in 0..<n { input[i] = sin(Double(i) * 0.01) + Double(i % 7) }
            var output = [Complex](repeating: .zero, count: fft.spectrumCount)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try fft.forward(input, into: &output)
                blackHole(output)
            }
        }
    }
}
