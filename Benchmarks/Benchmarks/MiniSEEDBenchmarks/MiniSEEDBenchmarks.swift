import Benchmark
import SeismicCore

let benchmarks: @Sendable () -> Void = {
    Benchmark("placeholder") { benchmark in
        blackHole(Timestamp(nanosecondsSinceEpoch: 1))
    }
}
