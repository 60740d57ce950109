import SeismicCore

/// Incremental decoder of the bytes a SeedLink 3.1 server sends after the handshake.
///
/// Frames (libslink `sl_collect` conventions):
/// - data packet: `SL` + 6 hexadecimal digits (sequence number, 24 bits) + a 512-byte miniSEED
///   2 record (520 bytes);
/// - INFO packet: `SLINFO` + 1 byte + `*` (more INFO packets follow) or anything else (the
///   last one) + a 512-byte miniSEED TEXT record holding part of an XML document;
/// - `ERROR\r\n`: the server rejected a command sent during the transfer (e.g. `INFO`);
/// - `END`: end of a `FETCH` or `TIME` window transfer.
///
/// Feed arbitrary chunks with ``append(_:)`` (one byte at a time works) and call ``next()``
/// until it returns nil ("need more bytes"). Bad input never traps; it is reported as
/// ``Frame/skipped(byteOffset:count:)`` and the decoder resynchronises:
/// - bytes that cannot start a frame are skipped up to the next position that can: `SL` + 6 hex
///   digits (or `SLINFO`) followed by a plausible miniSEED fixed-header start (sequence field of
///   digits/spaces/NULs, quality `D`/`R`/`Q`/`M`, then a space or NUL — libmseed's header
///   check), or `ERROR\r\n`. `END` is recognised only where a frame is expected, never inside
///   skipped bytes;
/// - a packet cut mid-record (the connection dropped, then the next packet's bytes follow) is
///   detected when the next frame header starts inside the 512 record bytes: the cut part is
///   skipped and decoding continues at that header. A cut that leaves fewer than 8 bytes
///   missing cannot be told from record data here; the client then sees the miniSEED decode
///   error of that record, and the next packet is resynchronised past.
///
/// Call ``reset()`` after a reconnect so no partial frame is kept.
///
/// - Complexity: O(1) amortised per byte, plus one scan of each packet's 512 bytes for an
///   embedded header. Each returned frame allocates its 512-byte record.
public struct SeedLinkFrameDecoder: Sendable {
    /// One decoded unit of the server's byte stream.
    public enum Frame: Sendable, Equatable {
        /// A data packet: its sequence number and the 512-byte miniSEED record.
        case packet(sequence: Int, record: [UInt8])
        /// An INFO packet's 512-byte miniSEED record; `isLast` when no INFO packet follows.
        case info(record: [UInt8], isLast: Bool)
        /// `ERROR\r\n`.
        case error
        /// `END`.
        case end
        /// `count` bytes starting at stream offset `byteOffset` were not a frame and were skipped.
        case skipped(byteOffset: Int, count: Int)
    }

    /// Header (8 bytes) + record (512 bytes).
    public static let packetLength = 520
    public static let recordLength = 512

    private var input = ByteStreamBuffer()
    private var buffer: [UInt8] { input.bytes }
    private var head: Int {
        get { input.head }
        set { input.head = newValue }
    }

    public init() {}

    /// Bytes received but not yet returned.
    public var bufferedByteCount: Int { input.unconsumedCount }
    /// Stream offset of the next byte to be examined.
    public var consumedByteCount: Int { input.consumedByteCount }

    /// Adds bytes received from the server.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        input.append(bytes)
    }

    /// Forgets buffered bytes (stream offsets keep counting).
    public mutating func reset() {
        input.reset()
    }

    /// What the bytes at a position can be.
    enum Candidate: Equatable {
        case packet(info: Bool)
        case error
        case end
        /// The available bytes are a prefix of a possible frame start.
        case needMore
        case invalid
    }

    private static let errorBytes: [UInt8] = Array("ERROR\r\n".utf8)
    private static let endBytes: [UInt8] = Array("END".utf8)
    private static let infoBytes: [UInt8] = Array("SLINFO".utf8)

    /// Classifies the frame start at `p` from the bytes `raw[p..<limit]`.
    static func classify(_ raw: UnsafeRawBufferPointer, at p: Int, limit: Int, allowEnd: Bool) -> Candidate {
        let n = limit - p
        guard n > 0 else { return .needMore }
        func prefixMatches(_ pattern: [UInt8]) -> Bool {
            for i in 0..<min(n, pattern.count) where raw[p + i] != pattern[i] { return false }
            return true
        }
        if raw[p] == 0x53 {  // "S"
            if n < 2 { return .needMore }
            if raw[p + 1] != 0x4C { return .invalid }  // "L"
            // SLINFO?
            var info = true
            for i in 2..<min(n, 6) where raw[p + i] != infoBytes[i] { info = false }
            var hex = true
            for i in 2..<min(n, 8) where !raw[p + i].isHexDigit { hex = false }
            guard info || hex else { return .invalid }
            if n < 8 { return .needMore }
            let isInfo = info
            // Plausible miniSEED fixed-header start: seq digits/space/NUL, quality, reserved.
            for i in 8..<min(n, 14) {
                let b = raw[p + i]
                guard (b >= 0x30 && b <= 0x39) || b == 0x20 || b == 0 else { return .invalid }
            }
            if n > 14 {
                let q = raw[p + 14]
                guard q == 0x44 || q == 0x52 || q == 0x51 || q == 0x4D else { return .invalid }
            }
            if n > 15 {
                let r = raw[p + 15]
                guard r == 0x20 || r == 0 else { return .invalid }
            }
            if n < 16 { return .needMore }
            return .packet(info: isInfo)
        }
        if raw[p] == 0x45 {  // "E"
            if prefixMatches(errorBytes) { return n >= errorBytes.count ? .error : .needMore }
            if allowEnd, prefixMatches(endBytes) { return n >= endBytes.count ? .end : .needMore }
        }
        return .invalid
    }

    /// Returns the next frame, or nil when more bytes are needed.
    public mutating func next() -> Frame? {
        while head < buffer.count {
            let p = head
            let count = buffer.count
            let candidate = buffer.withUnsafeBytes { Self.classify($0, at: p, limit: count, allowEnd: true) }
            switch candidate {
            case .needMore:
                return nil
            case .error:
                head += Self.errorBytes.count
                return .error
            case .end:
                head += Self.endBytes.count
                return .end
            case .invalid:
                let q = buffer.withUnsafeBytes { Self.nextCandidate($0, after: p, limit: count) }
                head = q
                return .skipped(byteOffset: input.streamOffset(ofIndex: p), count: q - p)
            case .packet(let info):
                guard count - p >= Self.packetLength else { return nil }
                // A frame header inside the record means this packet was cut short.
                let cut = buffer.withUnsafeBytes { raw -> Int? in
                    var k = p + 8
                    while k <= p + Self.recordLength {
                        if raw[k] == 0x53, raw[k + 1] == 0x4C {
                            switch Self.classify(raw, at: k, limit: p + Self.packetLength, allowEnd: false) {
                            case .packet, .needMore: return k  // needMore: 8...15 header bytes fit, all plausible
                            default: break
                            }
                        }
                        k += 1
                    }
                    return nil
                }
                if let cut {
                    head = cut
                    return .skipped(byteOffset: input.streamOffset(ofIndex: p), count: cut - p)
                }
                let record = Array(buffer[(p + 8)..<(p + Self.packetLength)])
                head = p + Self.packetLength
                if info {
                    return .info(record: record, isLast: buffer[p + 7] != 0x2A)
                }
                let sequence = buffer[(p + 2)..<(p + 8)].reduce(0) { acc, b in acc * 16 + Self.hexValue(b) }
                return .packet(sequence: sequence, record: record)
            }
        }
        return nil
    }

    static func hexValue(_ b: UInt8) -> Int {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return 0
        }
    }

    /// First position after `p` that may start a frame (or the end of the buffer).
    static func nextCandidate(_ raw: UnsafeRawBufferPointer, after p: Int, limit: Int) -> Int {
        var q = p + 1
        while q < limit {
            let b = raw[q]
            if b == 0x53 || b == 0x45 {
                switch classify(raw, at: q, limit: limit, allowEnd: false) {
                case .invalid: break
                default: return q
                }
            }
            q += 1
        }
        return limit
    }
}
