import Foundation

/// Why a `.npy` file could not be read. Every case names the file and what was wrong.
public struct NPYError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// A minimal reader for NumPy `.npy` files (format versions 1.0, 2.0 and 3.0) holding a 1-D,
/// C-order, little-endian `float32` (`<f4`) or `float64` (`<f8`) array.
///
/// Format (numpy.lib.format): the magic `\x93NUMPY`, a major and minor version byte, the header
/// length (little-endian UInt16 for v1, UInt32 for v2/v3), an ASCII/UTF-8 Python dict literal
/// with `descr`, `fortran_order` and `shape`, then the raw data. The reader never traps: every
/// malformed input throws ``NPYError``.
public enum NPY {
    /// Reads the file at `path` and returns its values widened to `Double` (exact for `<f4`).
    public static func readDoubles(path: String) throws(NPYError) -> [Double] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, reason: "cannot read file")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses the bytes of a `.npy` file; `path` is used in error messages only.
    public static func parse(_ bytes: [UInt8], path: String = "<memory>") throws(NPYError) -> [Double] {
        func fail(_ reason: String) -> NPYError { NPYError(path: path, reason: reason) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported format version \(major).\(bytes[7])")
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else { throw fail("header length \(headerLength) runs past the end of the file") }
        guard let header = String(bytes: bytes[headerStart..<dataStart], encoding: .utf8) else {
            throw fail("header is not UTF-8 text")
        }
        guard let descr = value(of: "descr", in: header) else { throw fail("header has no 'descr'") }
        let width: Int
        switch descr {
        case "'<f4'": width = 4
        case "'<f8'": width = 8
        default: throw fail("unsupported dtype \(descr) (only little-endian float32/float64)")
        }
        guard let fortran = value(of: "fortran_order", in: header) else { throw fail("header has no 'fortran_order'") }
        guard fortran == "False" else { throw fail("Fortran-order arrays are not supported") }
        guard let shapeText = value(of: "shape", in: header) else { throw fail("header has no 'shape'") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dims.count == 1, let count = Int(dims[0]), count >= 0 else {
            throw fail("only 1-D arrays are supported, shape is \(shapeText)")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, byteCount == bytes.count - dataStart else {
            throw fail("shape (\(count),) of \(descr) needs \(count) × \(width) bytes, file has \(bytes.count - dataStart)")
        }
        var out = [Double]()
        out.reserveCapacity(count)
        var offset = dataStart
        for _ in 0..<count {
            if width == 4 {
                var bits: UInt32 = 0
                for b in 0..<4 { bits |= UInt32(bytes[offset + b]) << (8 * UInt32(b)) }
                out.append(Double(Float(bitPattern: bits)))
            } else {
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[offset + b]) << (8 * UInt64(b)) }
                out.append(Double(bitPattern: bits))
            }
            offset += width
        }
        return out
    }

    /// The value text of `'key': value` in a Python dict literal, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var result = ""
        for ch in header[keyRange.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if depth == 0, ch == "," || ch == "}" { break }
            result.append(ch)
            if depth < 0 { return nil }
        }
        let trimmed = result.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}
