import Foundation
import NIOCore
import Testing

@testable import WebSocketHub

@Suite("WebSocket wire helpers")
struct WebSocketWireTests {
    @Test func acceptValueMatchesRFC6455Example() {
        // RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" → accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        #expect(WebSocketWire.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func sha1MatchesFIPSExamples() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        // FIPS 180-2 appendix A examples; the 56-byte one crosses a block boundary in the padding.
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func base64MatchesRFC4648Vectors() {
        let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases { #expect(WebSocketWire.base64(Array(plain.utf8)) == encoded) }
    }

    @Test func tokenComparison() {
        let tokens = [Array("alpha".utf8), Array("bravo-42".utf8)]
        #expect(WebSocketWire.tokenMatches("alpha", anyOf: tokens))
        #expect(WebSocketWire.tokenMatches("bravo-42", anyOf: tokens))
        for wrong in ["", "alph", "alphaa", "Alpha", "bravo-43", "bravo-4", "alpha\0"] {
            #expect(!WebSocketWire.tokenMatches(wrong, anyOf: tokens), "\(wrong)")
        }
        #expect(!WebSocketWire.tokenMatches("alpha", anyOf: []))
    }

    @Test func frameHeadersUseTheShortestLengthEncoding() {
        let allocator = ByteBufferAllocator()
        for (length, header) in [(0, [0x81, 0x00]), (125, [0x81, 125]), (126, [0x81, 126, 0, 126]),
                                 (65_535, [0x81, 126, 0xFF, 0xFF]), (65_536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])] as [(Int, [UInt8])] {
            let frame = WebSocketWire.serverTextFrame(String(repeating: "a", count: length), allocator: allocator)
            #expect(Array(frame.readableBytesView.prefix(header.count)) == header, "length \(length)")
            #expect(frame.readableBytes == header.count + length)
        }
        // Client frames: MASK bit, key, payload XOR key (RFC 6455 §5.3, example of §5.7 with "Hello").
        let masked = WebSocketWire.clientFrame(opcode: WireOpcode.text, payload: Array("Hello".utf8),
                                               maskKey: [0x37, 0xFA, 0x21, 0x3D], allocator: allocator)
        #expect(Array(masked.readableBytesView) == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func closePayloadIsCappedAt125Bytes() {
        let payload = WebSocketWire.closePayload(code: 1008, reason: String(repeating: "é", count: 100))
        #expect(payload.count <= 125)
        #expect(payload[0] == 0x03 && payload[1] == 0xF0)
        #expect(String(validating: payload.dropFirst(2), as: UTF8.self) != nil)
        let parsed = WebSocketWire.parseClosePayload(ByteBuffer(bytes: WebSocketWire.closePayload(code: 1001, reason: "bye")))
        #expect(parsed.code == 1001 && parsed.reason == "bye")
    }

    @Test func targetAndQueryParsing() {
        #expect(WebSocketWire.splitTarget("/warnings", parameter: "token") == ("/warnings", nil))
        #expect(WebSocketWire.splitTarget("/warnings?token=a%2Bb+c&x=1", parameter: "token") == ("/warnings", "a+b c"))
        #expect(WebSocketWire.splitTarget("/w?x=1&token=", parameter: "token") == ("/w", ""))
        #expect(WebSocketWire.splitTarget("/w?tokens=1", parameter: "token") == ("/w", nil))
        #expect(WebSocketWire.percentDecode("%zz%4") == "%zz%4")
        #expect(WebSocketWire.percentEncode("a b/é") == "a%20b%2F%C3%A9")
    }

    @Test func urlParsing() throws {
        #expect(try WebSocketURL(parsing: "ws://127.0.0.1:8765/warnings") == WebSocketURL(host: "127.0.0.1", port: 8765, target: "/warnings"))
        #expect(try WebSocketURL(parsing: "ws://example.org") == WebSocketURL(host: "example.org", port: 80, target: "/"))
        #expect(try WebSocketURL(parsing: "ws://[::1]:9/x?token=t") == WebSocketURL(host: "::1", port: 9, target: "/x?token=t"))
        #expect(try WebSocketURL(parsing: "ws://h:1?token=t").target == "/?token=t")
        for bad in ["http://h/", "wss://h/", "ws://", "ws://h:0/", "ws://h:70000/", "ws://h:x/", "ws://[::1/"] {
            #expect(throws: WebSocketClientError.self, "\(bad)") { try WebSocketURL(parsing: bad) }
        }
    }
}
