// Helpers shared by the STA/LTA and trigger tests (seeded data, chunked runs, chunkings).
import SeismicCore
import TestSupport
import Foundation
import Picking

/// Block sizes that cover `total` samples: `size` repeated (last block shorter).
func fixedChunks(total: Int, size: Int) -> [Int] {
    var sizes: [Int] = []
    var left = total
    while left > 0 {
        sizes.append(min(size, left))
        left -= size
    }
    return sizes
}

/// Random block sizes in 0...maxSize (zero-length blocks included) covering `total` samples.
func randomChunks(total: Int, maxSize: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed)
    var sizes: [Int] = []
    var left = total
    while left > 0 {
        let n = min(Int.random(in: 0...maxSize, using: &rng), left)
        sizes.append(n)
        left -= n
    }
    return sizes
}

/// The chunkings every streaming test uses: sizes 1, 7, 100, 4096 and three seeded random ones.
func standardChunkings(total: Int) -> [(name: String, sizes: [Int])] {
    var all: [(String, [Int])] = [1, 7, 100, 4096].map { ("fixed \($0)", fixedChunks(total: total, size: $0)) }
    for seed: UInt64 in [1, 2, 3] {
        all.append(("random seed \(seed)", randomChunks(total: total, maxSize: seed == 3 ? 5000 : 300, seed: seed)))
    }
    return all
}

/// Runs `filter` over `input` in blocks of the given sizes (writing through the unsafe-buffer API
/// into one output array at the right offsets) and returns the whole output.
func runChunked<F: STALTACharacteristicFunction>(_ filter: F, _ input: [Double], sizes: [Int]) -> [Double] {
    var f = filter
    var output = [Double](repeating: .nan, count: input.count)
    var start = 0
    input.withUnsafeBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf in
            for size in sizes {
                let end = start + size
                f.process(UnsafeBufferPointer(rebasing: inBuf[start..<end]),
                          into: UnsafeMutableBufferPointer(rebasing: outBuf[start..<end]))
                start = end
            }
        }
    }
    return output
}

/// Runs a trigger detector over `cf` in blocks of the given sizes, then `finish()`.
func triggersChunked(_ detector: TriggerOnset, _ cf: [Double], sizes: [Int]) -> [TriggerOnset.Trigger] {
    var d = detector
    var out: [TriggerOnset.Trigger] = []
    var start = 0
    cf.withUnsafeBufferPointer { buf in
        for size in sizes {
            d.process(UnsafeBufferPointer(rebasing: buf[start..<(start + size)])) { out.append($0) }
            start += size
        }
    }
    if let last = d.finish() { out.append(last) }
    return out
}

/// Bit-level equality (distinguishes -0.0 from 0.0 and compares NaN payloads).
func bitIdentical(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}
