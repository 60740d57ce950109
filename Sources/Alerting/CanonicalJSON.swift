// A direct writer for the canonical JSON of a warning (the bytes that are signed), producing the
// same bytes as Foundation's JSONEncoder with [.sortedKeys, .withoutEscapingSlashes] without its
// intermediate value tree, key sorting and per-value allocations.

import Foundation
import SeismicCore

/// Writes ``WarningMessage/canonicalJSON()`` byte by byte.
///
/// The format is the one Foundation's `JSONEncoder` gives with `[.sortedKeys,
/// .withoutEscapingSlashes]` for ``WarningMessage``'s `Encodable` conformance (that encoder stays
/// the definition; `Tests/AlertingTests/CanonicalJSONTests` compares the two on random
/// messages):
/// - keys in code-point order (the fixed key sets of the message, its epicentre and its targets
///   are written in that order);
/// - numbers: integers in decimal; finite doubles as Swift's shortest round-trip `description`
///   with a trailing `.0` removed (what swift-foundation's encoder does); a non-finite double
///   throws `EncodingError.invalidValue`, as the encoder does;
/// - strings: `"` and `\` escaped with a backslash, `/` and all bytes ≥ 0x20 (UTF-8 included)
///   written as they are. A string with a control character (< 0x20), which the encoder writes
///   as `\n`, `\u001f`, … (and truncates at NUL), makes the writer return nil so the caller uses
///   the encoder itself; warnings never contain one in practice (ids are `[A-Za-z0-9._-]`,
///   names come from the configuration).
/// - times: ``Timestamp/iso8601`` (digits written directly for years 0…9999).
///
/// - Complexity: O(bytes); one byte buffer, allocated up front (≈ 400 + 330 per target) and
///   grown only if a field is longer than that; every write reserves its bytes first.
struct CanonicalJSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The canonical JSON of `m`, or nil when a string needs the encoder's control-character escapes.
    static func encode(_ m: WarningMessage) throws -> [UInt8]? {
        var w = CanonicalJSONWriter(capacity: 400 + 330 * m.targets.count)
        guard try w.write(m) else { return nil }
        return w.bytes
    }

    /// Calls `body` with the canonical JSON of `m` (nil when a string needs the encoder's
    /// control-character escapes), without copying it out of the writer's buffer.
    static func withEncoded<R>(_ m: WarningMessage, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        var w = CanonicalJSONWriter(capacity: 400 + 330 * m.targets.count)
        guard try w.write(m) else { return try body(nil) }
        return try body(UnsafeRawBufferPointer(start: w.base, count: w.count))
    }

    /// ``SignedEnvelope/encoded()``'s bytes (keys `format`, `keyId`, `payload`, `payloadType`,
    /// `signature`, in that code-point order), or nil when a field needs the encoder's
    /// control-character escapes.
    static func encode(_ e: SignedEnvelope) -> [UInt8]? {
        var w = CanonicalJSONWriter(capacity: 96 + e.format.utf8.count + e.keyId.utf8.count + e.payload.utf8.count
                                        + e.payloadType.utf8.count + e.signature.utf8.count)
        w.raw("{\"format\":")
        guard w.string(e.format) else { return nil }
        w.raw(",\"keyId\":")
        guard w.string(e.keyId) else { return nil }
        w.raw(",\"payload\":")
        guard w.string(e.payload) else { return nil }
        w.raw(",\"payloadType\":")
        guard w.string(e.payloadType) else { return nil }
        w.raw(",\"signature\":")
        guard w.string(e.signature) else { return nil }
        w.raw("}")
        return w.bytes
    }

    /// Makes room for `n` more bytes.
    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, 2 * capacity)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func put(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always)
    private mutating func put(contentsOf source: UnsafeBufferPointer<UInt8>) {
        reserve(source.count)
        if let from = source.baseAddress { (base + count).update(from: from, count: source.count) }
        count += source.count
    }

    private mutating func write(_ m: WarningMessage) throws -> Bool {
        raw("{\"createdTime\":")
        time(m.createdTime)
        raw(",\"depthKilometers\":")
        try number(m.depthKilometers, "depthKilometers")
        raw(",\"epicenter\":{\"latitudeDegrees\":")
        try number(m.epicenter.latitudeDegrees, "latitudeDegrees")
        raw(",\"longitudeDegrees\":")
        try number(m.epicenter.longitudeDegrees, "longitudeDegrees")
        raw("},\"id\":")
        guard string(m.id) else { return false }
        raw(",\"magnitude\":")
        try number(m.magnitude, "magnitude")
        raw(",\"magnitudeType\":")
        guard string(m.magnitudeType) else { return false }
        raw(",\"magnitudeUncertainty\":")
        try number(m.magnitudeUncertainty, "magnitudeUncertainty")
        raw(",\"msgType\":")
        guard string(m.msgType.rawValue) else { return false }
        raw(",\"numberOfStations\":")
        integer(m.numberOfStations)
        raw(",\"originTime\":")
        time(m.originTime)
        if let sent = m.sentTime {
            raw(",\"sentTime\":")
            time(sent)
        }
        raw(",\"status\":")
        guard string(m.status.rawValue) else { return false }
        raw(",\"targets\":[")
        for (k, t) in m.targets.enumerated() {
            if k > 0 { put(UInt8(ascii: ",")) }
            raw("{\"countdownSeconds\":")
            try number(t.countdownSeconds, "countdownSeconds")
            raw(",\"epicentralDistanceKilometers\":")
            try number(t.epicentralDistanceKilometers, "epicentralDistanceKilometers")
            raw(",\"kind\":")
            guard string(t.kind.rawValue) else { return false }
            raw(",\"name\":")
            guard string(t.name) else { return false }
            raw(",\"predictedIntensity\":")
            try number(t.predictedIntensity, "predictedIntensity")
            raw(",\"predictedIntensitySigma\":")
            try number(t.predictedIntensitySigma, "predictedIntensitySigma")
            raw(",\"sWaveArrivalTime\":")
            time(t.sWaveArrivalTime)
            raw(",\"warningLevel\":")
            guard string(t.warningLevel.rawValue) else { return false }
            put(UInt8(ascii: "}"))
        }
        raw("],\"updateNumber\":")
        integer(m.updateNumber)
        put(UInt8(ascii: "}"))
        return true
    }

    private mutating func raw(_ s: StaticString) {
        put(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// A JSON string; false (nothing useful written) if `s` has a control character.
    ///
    /// A string with nothing to escape (the usual case) is copied in one piece.
    private mutating func string(_ s: String) -> Bool {
        put(UInt8(ascii: "\""))
        let copied = s.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for b in utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            put(contentsOf: utf8)
            return true
        }
        if copied != true {
            for b in s.utf8 {
                switch b {
                case 0..<0x20: return false
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    put(UInt8(ascii: "\\"))
                    put(b)
                default:
                    put(b)
                }
            }
        }
        put(UInt8(ascii: "\""))
        return true
    }

    private mutating func integer(_ v: Int) {
        for b in String(v).utf8 { put(b) }
    }

    private mutating func number(_ v: Double, _ key: String) throws {
        guard v.isFinite else {
            throw EncodingError.invalidValue(v, EncodingError.Context(
                codingPath: [], debugDescription: "Unable to encode Double.\(v) directly in JSON (\(key))."))
        }
        reserve(Self.fixedPointCapacity)
        if let n = Self.fixedPoint(v, into: UnsafeMutableBufferPointer(start: base + count, count: Self.fixedPointCapacity)) {
            count += n
            return
        }
        var text: [UInt8] = []
        Self.appendDescription(v, to: &text)
        text.withUnsafeBufferPointer { put(contentsOf: $0) }
    }

    /// The definition of the number format: `v.description` with a trailing `.0` removed
    /// (swift-foundation's JSONEncoder: 1.0 → 1, 1e+16 stays).
    static func appendDescription(_ v: Double, to bytes: inout [UInt8]) {
        let text = v.description.utf8
        if text.count >= 2, text.last == UInt8(ascii: "0"), text[text.index(text.endIndex, offsetBy: -2)] == UInt8(ascii: ".") {
            bytes.append(contentsOf: text.dropLast(2))
        } else {
            bytes.append(contentsOf: text)
        }
    }

    /// Bytes ``fixedPoint(_:into:)`` may write: a sign, 15 integer digits, a point, 3 decimals.
    static let fixedPointCapacity = 20

    /// ``appendDescription(_:to:)``'s text of `v`, written without `description`, for the values
    /// most fields of a warning hold: a nonzero integer below 10¹⁵ in magnitude, or a value below
    /// 10⁸ with at most three decimals (distances, intensities and countdowns are rounded to 0.1,
    /// σ to 0.01). Returns the byte count, or nil for any other value (the caller then uses
    /// `description`).
    ///
    /// Why this is `description`'s text: Swift prints the shortest decimal that parses back to
    /// `v` (the closest one among equally short ones), in positional notation for
    /// 10⁻⁴ ≤ |v| < 2⁵³. Let d ≤ 3 be the fewest decimals for which k = round(|v|·10^d)
    /// satisfies k / 10^d == |v| in IEEE arithmetic. That division is correctly rounded (k and
    /// 10^d are exact), so the decimal k·10⁻ᵈ parses back to `v`; no decimal with fewer digits
    /// does (it would have matched at a smaller d: integer digits cannot be dropped while
    /// ulp(v) < 1), and no other one with d decimals lies within ulp(v)/2 < 10⁻ᵈ/2 of `v`. Signed
    /// zeros are left to `description` ("-0.0" → "-0"). `SigningFastPathTests` compares the two
    /// exhaustively on k·10⁻ᵈ for |k| ≤ 100,000, d = 0…3, and on random values of every shape.
    static func fixedPoint(_ v: Double, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        precondition(out.count >= fixedPointCapacity)  // internal invariant: the callers' buffers
        let magnitude = v.magnitude
        guard magnitude != 0, magnitude < 1e15 else { return nil }
        var decimals = 0
        var scaled = magnitude
        if magnitude.rounded(.towardZero) != magnitude {
            guard magnitude < 1e8 else { return nil }
            var scale = 1.0
            var found = false
            for d in 1...3 {
                scale *= 10
                let k = (magnitude * scale).rounded(.toNearestOrEven)
                if k / scale == magnitude {
                    decimals = d
                    scaled = k
                    found = true
                    break
                }
            }
            guard found else { return nil }
        }
        // scaled < 10^15 (integers) or < 10^11 + 1 (three decimals below 10^8): exact in UInt64.
        var k = UInt64(scaled)
        var n = 0
        if v < 0 {
            out[n] = UInt8(ascii: "-")
            n += 1
        }
        // Digits right to left into the tail of `out`, then moved to the front.
        var end = out.count
        var written = 0
        repeat {
            if written == decimals && decimals > 0 {
                end -= 1
                out[end] = UInt8(ascii: ".")
            }
            end -= 1
            out[end] = UInt8(ascii: "0") + UInt8(k % 10)
            k /= 10
            written += 1
        } while k > 0 || written <= decimals
        let length = out.count - end
        for i in 0..<length { out[n + i] = out[end + i] }
        return n + length
    }

    /// `"` + ``Timestamp/iso8601`` + `"`.
    private mutating func time(_ t: Timestamp) {
        let c = t.components
        guard (0...9999).contains(c.year) else {
            put(UInt8(ascii: "\""))
            for b in t.iso8601.utf8 { put(b) }
            put(UInt8(ascii: "\""))
            return
        }
        // "YYYY-MM-DDThh:mm:ss.ffffff[fff]Z" between quotes: at most 32 bytes.
        reserve(32)
        let out = base + count
        var i = 0
        func byte(_ b: UInt8) {
            out[i] = b
            i += 1
        }
        func digits(_ v: Int, _ width: Int) {
            var rest = v
            var j = i + width - 1
            while j >= i {
                out[j] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                j -= 1
            }
            i += width
        }
        byte(UInt8(ascii: "\""))
        digits(c.year, 4)
        byte(UInt8(ascii: "-"))
        digits(c.month, 2)
        byte(UInt8(ascii: "-"))
        digits(c.day, 2)
        byte(UInt8(ascii: "T"))
        digits(c.hour, 2)
        byte(UInt8(ascii: ":"))
        digits(c.minute, 2)
        byte(UInt8(ascii: ":"))
        digits(c.second, 2)
        byte(UInt8(ascii: "."))
        if c.nanosecond % 1000 == 0 { digits(c.nanosecond / 1000, 6) } else { digits(c.nanosecond, 9) }
        byte(UInt8(ascii: "Z"))
        byte(UInt8(ascii: "\""))
        count += i
    }
}
