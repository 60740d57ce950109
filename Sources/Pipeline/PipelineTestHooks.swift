// Test hooks (SPI, so that tests need no `@testable import` and also build in release).

public import SeismicCore

extension ReplayPipeline {
    /// The slices (start time, sample count) that the pipeline's input re-cutting makes of one
    /// stream's blocks, in order, with the open remainder closed at the end (as ``finish()`` does).
    @_spi(Testing) public static func slices(of blocks: [SampleBlock], sliceSeconds: Double) -> [(start: Timestamp, count: Int)] {
        var input = InputStream()
        let ns = Int64((sliceSeconds * 1e9).rounded())
        for b in blocks { input.append(b, sliceNanoseconds: ns) }
        input.close()
        return input.slices.map { ($0.startTime, $0.samples.count) }
    }
}

extension PipelineKeepWarm {
    /// ``ReplayPipeline/heldItems`` of the scratch station's pipeline (0 without one).
    @_spi(Testing) public var scratchHeldItems: Int { scratch?.heldItems ?? 0 }
}
