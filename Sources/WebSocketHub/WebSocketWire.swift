// Wire-level helpers shared by the hub (server side) and the client: RFC 6455 frame headers,
// close codes, the opening-handshake accept value (SHA-1), constant-time token comparison and
// request-target parsing. Everything here is pure and never traps on outside input.

internal import NIOCore

/// WebSocket close status codes used by QuakeWarn (RFC 6455 §7.4.1; 1013 from the IANA registry).
public enum WebSocketCloseCode {
    /// 1000: normal closure.
    public static let normal: UInt16 = 1000
    /// 1001: the server is going away (shutdown) or the peer went idle.
    public static let goingAway: UInt16 = 1001
    /// 1002: protocol error (unmasked client frame, reserved bits, unknown opcode, fragmented control frame).
    public static let protocolError: UInt16 = 1002
    /// 1008: policy violation: here, a subscriber too slow to keep up (its unsent bytes exceeded the cap).
    public static let policyViolation: UInt16 = 1008
    /// 1009: a client frame larger than the hub accepts.
    public static let messageTooBig: UInt16 = 1009
    /// 1011: unexpected server condition.
    public static let internalError: UInt16 = 1011
    /// 1013: try again later (server overloaded).
    public static let tryAgainLater: UInt16 = 1013
}

/// RFC 6455 §5.2 opcodes as raw values.
enum WireOpcode {
    static let continuation: UInt8 = 0x0
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA
}

enum WebSocketWire {
    /// The GUID of RFC 6455 §1.3 appended to the client's key before hashing.
    static let handshakeGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Size of the header of a frame with `payloadLength` bytes (RFC 6455 §5.2), without mask key.
    static func headerSize(payloadLength: Int) -> Int {
        payloadLength < 126 ? 2 : (payloadLength <= 0xFFFF ? 4 : 10)
    }

    /// Writes a final (FIN = 1) frame header: opcode, payload length, and the MASK bit when a
    /// masking key follows (clients must mask, servers must not; RFC 6455 §5.1).
    static func writeHeader(opcode: UInt8, payloadLength: Int, masked: Bool, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0x80 | (opcode & 0x0F)))
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payloadLength < 126 {
            buffer.writeInteger(maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(payloadLength))
        } else {
            buffer.writeInteger(maskBit | 127)
            buffer.writeInteger(UInt64(payloadLength))
        }
    }

    /// An unmasked server frame (header + payload) in one buffer: the bytes that go on the wire.
    static func serverFrame(opcode: UInt8, payload: some Collection<UInt8>, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize(payloadLength: payload.count) + payload.count)
        writeHeader(opcode: opcode, payloadLength: payload.count, masked: false, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    /// An unmasked server text frame of `text`'s UTF-8 bytes.
    static func serverTextFrame(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: headerSize(payloadLength: length) + length)
        writeHeader(opcode: WireOpcode.text, payloadLength: length, masked: false, into: &buffer)
        buffer.writeString(text)
        return buffer
    }

    /// A masked client frame with the given 4-byte masking key (RFC 6455 §5.3).
    static func clientFrame(opcode: UInt8, payload: [UInt8], maskKey: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerSize(payloadLength: payload.count) + 4 + payload.count)
        writeHeader(opcode: opcode, payloadLength: payload.count, masked: true, into: &buffer)
        buffer.writeBytes(maskKey)
        var masked = payload
        for index in masked.indices { masked[index] ^= maskKey[index & 3] }
        buffer.writeBytes(masked)
        return buffer
    }

    /// Payload of a close frame: 2-byte status code (network order) then a UTF-8 reason,
    /// truncated so the payload stays within the 125-byte control-frame limit (§5.5).
    static func closePayload(code: UInt16, reason: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes: [UInt8] = []
        for scalar in reason.unicodeScalars {
            let encoded = Array(String(scalar).utf8)  // never cut a multi-byte UTF-8 sequence
            if reasonBytes.count + encoded.count > 123 { break }
            reasonBytes += encoded
        }
        bytes += reasonBytes
        return bytes
    }

    /// Parses a close frame payload: (code, reason); `nil` code for an empty payload (§5.5.1).
    static func parseClosePayload(_ buffer: ByteBuffer) -> (code: UInt16?, reason: String) {
        var copy = buffer
        guard let code = copy.readInteger(as: UInt16.self) else { return (nil, "") }
        let reason = copy.readString(length: copy.readableBytes) ?? ""
        return (code, reason)
    }

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2 step 5.4):
    /// base64(SHA-1(key + GUID)).
    static func acceptValue(forKey key: String) -> String {
        base64(SHA1.hash(Array((key + handshakeGUID).utf8)))
    }

    /// Standard base64 with padding (RFC 4648 §4).
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares a presented token against every configured token in time independent of where
    /// the bytes differ (every byte of every configured token is visited; only the lengths,
    /// which are not secret in practice, influence the loop bounds).
    static func tokenMatches(_ presented: String, anyOf tokens: [[UInt8]]) -> Bool {
        let candidate = Array(presented.utf8)
        var matched: UInt8 = 0
        for token in tokens {
            var difference: UInt8 = token.count == candidate.count ? 0 : 1
            for index in token.indices {
                let other = index < candidate.count ? candidate[index] : 0
                difference |= token[index] ^ other
            }
            // matched |= (difference == 0) without a data-dependent branch on the bytes.
            let isZero = UInt8(truncatingIfNeeded: (UInt16(difference) &- 1) >> 8)  // 0xFF when 0, else 0
            matched |= isZero & 1
        }
        return matched == 1
    }

    /// Splits a request target `"/path?query"` into the path and the value of query parameter
    /// `name` (percent-decoded; `+` is a space), if present.
    static func splitTarget(_ uri: String, parameter name: String) -> (path: String, value: String?) {
        guard let questionMark = uri.firstIndex(of: "?") else { return (uri, nil) }
        let path = String(uri[..<questionMark])
        let query = uri[uri.index(after: questionMark)...]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, percentDecode(parts[0]) == name else { continue }
            return (path, percentDecode(parts[1]))
        }
        return (path, nil)
    }

    /// Percent-decoding of a query component; invalid escapes are kept literally.
    static func percentDecode(_ text: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes everything except RFC 3986 unreserved characters.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// SHA-1 (FIPS 180-4 §6.1), used only for the WebSocket handshake's `Sec-WebSocket-Accept`
/// (RFC 6455 §4.2.2), where it is not a security primitive. Written from the FIPS text.
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 80)
        for blockStart in stride(from: 0, to: padded.count, by: 64) {
            for t in 0..<16 {
                let i = blockStart + 4 * t
                w[t] = UInt32(padded[i]) << 24 | UInt32(padded[i + 1]) << 16 | UInt32(padded[i + 2]) << 8 | UInt32(padded[i + 3])
            }
            for t in 16..<80 {
                let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }
        var out: [UInt8] = []
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        return out
    }
}
