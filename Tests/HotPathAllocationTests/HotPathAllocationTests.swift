import CAllocationCounter
import Foundation
import Magnitude
import Picking
import SeismicCore
import SignalProcessing
import Testing
import TestSupport

// design.md and issue 8: "hot paths are allocation-free after warm-up, and tests enforce that
// with allocation counts". The counter (Tests/CAllocationCounter) interposes malloc & co. in the
// test executable and counts the calls made by the test's own thread between `begin` and `end`;
// other tests running concurrently on other threads cannot change a count. Each hot path is
// warmed up first (buffers sized, plans made, LTA settled), then driven for many packets while
// counting; the expected count is exactly zero.
//
// These tests run in the debug build (CI). A debug build allocates at least as often as a release
// build (no extra stack promotion), so zero here implies zero in release; the ordo-one benchmark
// counts (Benchmarks/scripts/check-allocations.sh) cover the release build.

/// Heap allocations made by the calling thread while `body` runs.
private func allocationCount(_ body: () -> Void) -> Int64 {
    qw_allocation_counting_begin()
    body()
    return qw_allocation_counting_end()
}

private let streamID = StreamID(network: "SC", station: "NANTA", location: "00", channel: "HNZ")
private let samplingRate = 100.0

/// `count` packets of Gaussian noise (counts), `samplesPerPacket` each, made before counting.
private func noisePackets(count: Int, samplesPerPacket: Int, seed: UInt64, scale: Double = 1000) -> [[Double]] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in (0..<samplesPerPacket).map { _ in scale * rng.nextStandardNormal() } }
}

@Suite("Hot paths allocate nothing after warm-up (malloc counts)")
struct HotPathAllocationTests {
    @Test("the counter sees this thread's allocations (guards against a silently inactive counter)")
    func counterSeesAllocations() {
        var sink = 0
        let count = allocationCount {
            for n in 1...10 {
                let array = [Int](repeating: n, count: 1000 * n)
                sink &+= array[n]
            }
        }
        #expect(count >= 10)
        #expect(sink == 55)
        // Nothing counted once counting is off, and an empty region counts zero.
        #expect(allocationCount {} == 0)
    }

    @Test("recursive and classic STA/LTA, 1 s packets into a caller buffer")
    func staLta() throws {
        var recursive = try RecursiveSTALTA(staSeconds: 0.5, ltaSeconds: 10, samplingRateHz: samplingRate)
        var classic = try ClassicSTALTA(staSeconds: 0.5, ltaSeconds: 10, samplingRateHz: samplingRate)
        let packets = noisePackets(count: 64, samplesPerPacket: 100, seed: 3)
        var output = [Double](repeating: 0, count: 100)
        func run(_ range: Range<Int>) {
            output.withUnsafeMutableBufferPointer { out in
                for i in range {
                    packets[i % packets.count].withUnsafeBufferPointer { input in
                        recursive.process(input, into: out)
                        classic.process(input, into: out)
                    }
                }
            }
        }
        run(0..<20)  // LTA filled
        let count = allocationCount { run(20..<1020) }
        #expect(count == 0)
        #expect(output.allSatisfy { $0.isFinite })
    }

    @Test("Butterworth band-pass (SOS cascade), in place")
    func butterworth() throws {
        let sections = try ButterworthDesign.sections(order: 4, band: .bandpass(lowHz: 1, highHz: 20),
                                                      samplingRateHz: samplingRate)
        var filter = SOSFilter(sections)
        var packets = noisePackets(count: 32, samplesPerPacket: 100, seed: 5)
        func run(_ range: Range<Int>) {
            for i in range {
                packets[i % packets.count].withUnsafeMutableBufferPointer { filter.process(inPlace: $0) }
            }
        }
        run(0..<4)
        let count = allocationCount { run(4..<1004) }
        #expect(count == 0)
        #expect(packets.joined().allSatisfy { $0.isFinite })
    }

    @Test("real FFT (FFTW r2c, 1,024 points) into a caller buffer")
    func realFFT() throws {
        let fft = try RealFFT(count: 1024)
        let input = noisePackets(count: 1, samplesPerPacket: 1024, seed: 9)[0]
        var spectrum = [Complex](repeating: Complex(real: 0, imaginary: 0), count: fft.spectrumCount)
        var failures = 0
        func run(_ times: Int) {
            input.withUnsafeBufferPointer { x in
                spectrum.withUnsafeMutableBufferPointer { y in
                    for _ in 0..<times {
                        do { try fft.forward(x, into: y) } catch { failures += 1 }
                    }
                }
            }
        }
        run(2)
        let count = allocationCount { run(500) }
        #expect(count == 0)
        #expect(failures == 0)
        // Parseval's theorem holds, so the transform really ran: Σx² = (|X0|² + 2Σ|Xk|² + |X_{n/2}|²)/n.
        let energy = input.reduce(0) { $0 + $1 * $1 }
        var spectral = 0.0
        for (k, c) in spectrum.enumerated() {
            let weight = (k == 0 || k == spectrum.count - 1) ? 1.0 : 2.0
            spectral += weight * (c.real * c.real + c.imaginary * c.imaginary)
        }
        #expect(abs(spectral / 1024 - energy) <= 1e-9 * energy)
    }

    @Test("picker chain (filter + STA/LTA + trigger + glitch checks), 3 channels of 1 s noise packets")
    func pickerChain() throws {
        let ids = ["HNZ", "HNN", "HNE"].map {
            StreamID(network: "SC", station: "NANTA", location: "00", channel: $0)
        }
        var pickers = try ids.map { try GlitchRejectingPicker(streamID: $0, samplingRateHz: samplingRate) }
        let packets = noisePackets(count: 300, samplesPerPacket: 100, seed: 11)
        var time = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        var outputs = 0
        func run(_ range: Range<Int>) {
            for i in range {
                for c in 0..<3 {
                    let block = SampleBlock(streamID: ids[c], startTime: time, samplingRateHz: samplingRate,
                                            samples: packets[(i * 3 + c) % packets.count])
                    outputs += pickers[c].process(block).count
                }
                time = time.adding(nanoseconds: 1_000_000_000)
            }
        }
        // Warm-up: the 10 s LTA settled and the 30 s history filled past its trim point twice.
        run(0..<70)
        let count = allocationCount { run(70..<1070) }
        #expect(count == 0)
        #expect(outputs == 0)  // stationary noise: no trigger, so nothing was allowed to allocate
    }

    @Test("station parameters (Pd, Pv, Pa, τc, τp^max, PGA, PGV) through a 3 s P window")
    func stationParameters() throws {
        let configuration = StationParameterConfiguration(samplingRateHz: samplingRate)
        let start = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        var processor = try RealTimeStationProcessor(configuration: configuration, startTime: start)
        let noise = noisePackets(count: 40, samplesPerPacket: 100, seed: 13, scale: 1e-4)
        // A P-like 2 Hz burst after the pick, in m/s² (gain 1).
        let burst = (0..<100).map { 0.05 * sin(2 * Double.pi * 2 * Double($0) / samplingRate) }
        var snapshots = 0
        var lastPd = 0.0
        func run(_ packets: [[Double]], _ range: Range<Int>) {
            for i in range {
                packets[i % packets.count].withUnsafeBufferPointer { buffer in
                    processor.process(buffer) { parameters in
                        snapshots += 1
                        lastPd = parameters.peakDisplacementMeters
                    }
                }
            }
        }
        let burstPackets = [burst]
        run(noise, 0..<30)  // 30 s: mean remover and high-passes settled
        // A first pick and window during warm-up (one-time runtime set-up on first use).
        try processor.pick(at: start.adding(nanoseconds: 30_000_000_000))
        run(burstPackets, 0..<3)
        run(noise, 0..<10)
        #expect(snapshots == 6)
        // Setting a pick sizes the window's step table (once per pick, allowed to allocate).
        try processor.pick(at: start.adding(nanoseconds: 43_000_000_000))
        let count = allocationCount { run(burstPackets, 0..<3) }  // the whole 3 s window, 6 snapshots
        #expect(count == 0)
        #expect(snapshots == 12)
        #expect(lastPd > 0)
        // After the window: PGA/PGV keep updating, still without allocating.
        let after = allocationCount { run(noise, 0..<100) }
        #expect(after == 0)
    }
}
