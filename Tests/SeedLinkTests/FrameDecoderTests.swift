import MiniSEED
import SeedLink
import SeismicCore
import Testing

/// Feeds server byte streams to SeedLinkFrameDecoder in every chunking and with corruption.
@Suite struct FrameDecoderTests {
    /// 12 real 512-byte records of three streams, with their packets.
    static func packets() throws -> [(sequence: Int, record: [UInt8])] {
        let feed = try Synthetic.feed()
        return feed.records.prefix(12).enumerated().map { (i, r) in (sequence: 0xFFF0 + i * 7, record: r.bytes) }
    }

    static func infoFrames() -> ([UInt8], [[UInt8]]) {
        let xml = SeedLinkInfo.xml(level: "STREAMS", software: "test", organization: "QuakeWarn",
                                   started: Synthetic.t0, stations: (try? Synthetic.feed().stations) ?? []) ?? ""
        let records = SeedLinkInfo.textRecords(xml, time: Synthetic.t0)
        var bytes: [UInt8] = []
        for (i, r) in records.enumerated() { bytes += Array((i == records.count - 1 ? "SLINFO  " : "SLINFO *").utf8) + r }
        return (bytes, records)
    }

    /// Decodes `chunks` in order, collecting every frame.
    static func decode(_ chunks: [ArraySlice<UInt8>]) -> [SeedLinkFrameDecoder.Frame] {
        var decoder = SeedLinkFrameDecoder()
        var frames: [SeedLinkFrameDecoder.Frame] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let f = decoder.next() { frames.append(f) }
        }
        return frames
    }

    static func chunks(_ bytes: [UInt8], sizes: inout SplitMix64, maxSize: Int) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            let n = Int(sizes.next() % UInt64(maxSize)) + 1
            out.append(bytes[i..<min(i + n, bytes.count)])
            i += n
        }
        return out
    }

    @Test func wholeStreamByteAtATimeAndRandomChunks() throws {
        let packets = try Self.packets()
        let (info, infoRecords) = Self.infoFrames()
        #expect(infoRecords.count > 1)
        var stream: [UInt8] = []
        var expected: [SeedLinkFrameDecoder.Frame] = []
        for (i, p) in packets.enumerated() {
            stream += .packet(p.sequence, p.record)
            expected.append(.packet(sequence: p.sequence, record: p.record))
            if i == 4 {
                stream += info
                for (k, r) in infoRecords.enumerated() { expected.append(.info(record: r, isLast: k == infoRecords.count - 1)) }
            }
            if i == 7 {
                stream += Array("ERROR\r\n".utf8)
                expected.append(.error)
            }
        }
        stream += Array("END".utf8)
        expected.append(.end)

        #expect(Self.decode([stream[...]]) == expected)
        #expect(Self.decode(stream.indices.map { stream[$0...$0] }) == expected)
        var rng = SplitMix64(seed: 42)
        for maxSize in [2, 7, 100, 519, 521, 1500, 5000] {
            for _ in 0..<5 {
                #expect(Self.decode(Self.chunks(stream, sizes: &rng, maxSize: maxSize)) == expected, "max chunk \(maxSize)")
            }
        }
        // The INFO XML survives the trip through TEXT records.
        let text = infoRecords.compactMap { SeedLinkInfo.text(ofRecord: $0) }.joined()
        #expect(text.hasPrefix("<?xml"))
        #expect(text.contains("<station name=\"NANTA\" network=\"XX\""))
        #expect(text.contains("seedname=\"HNE\""))
    }

    @Test func garbageBetweenPacketsIsSkippedAndReported() throws {
        let packets = try Self.packets()
        var rng = SplitMix64(seed: 7)
        var stream: [UInt8] = []
        var garbageLengths: [Int] = []
        for p in packets {
            // Random garbage, sometimes with decoys: "SL" + non-hex, "SL" + hex + implausible header.
            var garbage = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 2 == 0 { garbage += Array("SLXYZ123".utf8) }
            if rng.next() % 2 == 0 { garbage += Array("SL0000AB".utf8) + [UInt8](repeating: 0xFF, count: 20) }
            if rng.next() % 3 == 0 { garbage += Array("ERR".utf8) + [0x41] }
            garbageLengths.append(garbage.count)
            stream += garbage
            stream += .packet(p.sequence, p.record)
        }
        for maxSize in [1, 13, 600, 100_000] {
            var sizes = SplitMix64(seed: UInt64(maxSize))
            let frames = Self.decode(Self.chunks(stream, sizes: &sizes, maxSize: maxSize))
            let decoded = frames.compactMap { f -> Int? in if case .packet(let s, _) = f { return s } else { return nil } }
            #expect(decoded == packets.map(\.sequence), "max chunk \(maxSize)")
            let skipped = frames.reduce(0) { acc, f in if case .skipped(_, let n) = f { return acc + n } else { return acc } }
            #expect(skipped == garbageLengths.reduce(0, +), "every garbage byte reported, max chunk \(maxSize)")
            for f in frames {
                if case .packet(let s, let r) = f { #expect(packets.first { $0.sequence == s }?.record == r) }
            }
        }
    }

    @Test func packetCutMidRecordCostsOnlyThatPacket() throws {
        let packets = try Self.packets()
        for cutAfter in [8, 9, 100, 300, 511] {  // record bytes kept of packet 3 (8 = header only)
            var stream: [UInt8] = []
            for (i, p) in packets.enumerated() {
                let bytes = [UInt8].packet(p.sequence, p.record)
                stream += i == 3 ? Array(bytes.prefix(8 + cutAfter - 8)) : bytes
            }
            var sizes = SplitMix64(seed: 3)
            let frames = Self.decode(Self.chunks(stream, sizes: &sizes, maxSize: 64))
            let decoded = frames.compactMap { f -> Int? in if case .packet(let s, _) = f { return s } else { return nil } }
            var expected = packets.map(\.sequence)
            expected.remove(at: 3)
            if cutAfter >= 513 - 8 {
                // Fewer than 8 bytes missing: undetectable here (documented); at most two packets lost.
                #expect(decoded.count >= expected.count - 1)
            } else {
                #expect(decoded == expected, "cut after \(cutAfter) bytes")
                #expect(frames.contains { if case .skipped(_, let n) = $0 { return n == cutAfter } else { return false } })
            }
        }
    }

    @Test func randomBytesNeverTrapAndAreAllAccountedFor() {
        var rng = SplitMix64(seed: 99)
        var bytes = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // Sprinkle partial headers.
        for k in stride(from: 0, to: bytes.count - 16, by: 997) { bytes.replaceSubrange(k..<(k + 8), with: Array("SL00FF00".utf8)) }
        var decoder = SeedLinkFrameDecoder()
        var consumed = 0
        var i = 0
        while i < bytes.count {
            let n = Int(rng.next() % 4096) + 1
            decoder.append(bytes[i..<min(i + n, bytes.count)])
            i += n
            while let f = decoder.next() {
                switch f {
                case .skipped(_, let count): consumed += count
                case .packet: consumed += 520
                case .info: consumed += 520
                case .error: consumed += 7
                case .end: consumed += 3
                }
            }
        }
        #expect(consumed + decoder.bufferedByteCount == bytes.count)
        #expect(decoder.consumedByteCount == consumed)
    }

    @Test func resetDropsPartialFrame() throws {
        let p = try Self.packets()[0]
        var decoder = SeedLinkFrameDecoder()
        decoder.append(Array([UInt8].packet(p.sequence, p.record).prefix(300)))
        #expect(decoder.next() == nil)
        decoder.reset()
        decoder.append([UInt8].packet(p.sequence, p.record))
        #expect(decoder.next() == .packet(sequence: p.sequence, record: p.record))
        #expect(decoder.next() == nil)
    }
}
