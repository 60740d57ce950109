/// Why reading, decoding or writing miniSEED failed, with where it happened.
///
/// Every failure on external input (files, byte streams) surfaces as this one error type: the
/// reader and decoder never trap on bad bytes. The ``description`` names the source, byte offset,
/// record index and header field when known, e.g.
/// `data.mseed: byte 4096 (record 8): invalid header field 'sampling rate': factor 0, multiplier 1`.
///
/// ``Code`` is a struct (not an enum) so codes can be added without breaking `switch`es of
/// clients (the swift-service-lifecycle `ServiceGroupError.Code` pattern). Equality compares all
/// fields, so tests can match an exact error.
public struct MiniSEEDError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case fileUnreadable, fileUnwritable, notMiniSEED, truncatedRecord, invalidHeader,
                 unsupportedEncoding, decodeFailed, sampleCountMismatch, valueNotRepresentable,
                 invalidArgument, encodeFailed
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The file could not be opened or read (`reason` carries `strerror`).
        public static let fileUnreadable = Code(.fileUnreadable)
        /// The file could not be created or written (`reason` carries `strerror`).
        public static let fileUnwritable = Code(.fileUnwritable)
        /// The bytes do not look like a miniSEED 2 record (no fixed-header signature), or a file
        /// contains no valid record at all.
        public static let notMiniSEED = Code(.notMiniSEED)
        /// The data end before the record does (its length is known from Blockette 1000).
        public static let truncatedRecord = Code(.truncatedRecord)
        /// A header field is impossible (time, sampling rate, record length, offsets, counts).
        public static let invalidHeader = Code(.invalidHeader)
        /// The record uses an encoding this module does not decode into numbers, or writing was
        /// asked for an encoding the writer does not produce.
        public static let unsupportedEncoding = Code(.unsupportedEncoding)
        /// libmseed could not decode the data section (e.g. bad Steim frames), or a Steim
        /// integrity check (last sample against the reverse integration constant) failed.
        public static let decodeFailed = Code(.decodeFailed)
        /// The number of decoded samples differs from the header's sample count.
        public static let sampleCountMismatch = Code(.sampleCountMismatch)
        /// A sample cannot be written exactly in the requested encoding (non-integral, out of
        /// range or not finite for an integer encoding).
        public static let valueNotRepresentable = Code(.valueNotRepresentable)
        /// A caller-supplied parameter is invalid (record length, sampling rate, sequence number).
        public static let invalidArgument = Code(.invalidArgument)
        /// libmseed's packer failed.
        public static let encodeFailed = Code(.encodeFailed)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    /// File path or stream name the bytes came from.
    public var file: String?
    /// Byte offset, from the start of the file or stream, of the record (or byte) at fault.
    public var byteOffset: Int?
    /// 0-based index of the record in the file or stream, counting every record-sized unit
    /// examined (good and bad), when known.
    public var recordIndex: Int?
    /// The header field at fault, e.g. `"sampling rate"`, `"start time"`, `"blockette 1000"`.
    public var field: String?
    /// Human-readable reason with the offending values (and libmseed's own diagnostics, if any).
    public var reason: String

    public init(_ code: Code, file: String? = nil, byteOffset: Int? = nil, recordIndex: Int? = nil,
                field: String? = nil, reason: String) {
        self.code = code
        self.file = file
        self.byteOffset = byteOffset
        self.recordIndex = recordIndex
        self.field = field
        self.reason = reason
    }

    /// `<file>: byte <offset> (record <index>): invalid header field '<field>': <reason>`
    /// (the parts that are unknown are left out).
    public var description: String {
        var out = ""
        if let file { out += file }
        if let byteOffset {
            out += out.isEmpty ? "byte \(byteOffset)" : ": byte \(byteOffset)"
            if let recordIndex { out += " (record \(recordIndex))" }
        } else if let recordIndex {
            out += out.isEmpty ? "record \(recordIndex)" : ": record \(recordIndex)"
        }
        if !out.isEmpty { out += ": " }
        if let field {
            out += "\(Self.phrase(for: code)) '\(field)': "
        } else {
            out += "\(Self.phrase(for: code)): "
        }
        return out + reason
    }

    private static func phrase(for code: Code) -> String {
        switch code {
        case .invalidHeader: return "invalid header field"
        case .fileUnreadable: return "cannot read file"
        case .fileUnwritable: return "cannot write file"
        case .notMiniSEED: return "not miniSEED"
        case .truncatedRecord: return "truncated record"
        case .unsupportedEncoding: return "unsupported encoding"
        case .decodeFailed: return "data decoding failed"
        case .sampleCountMismatch: return "sample count mismatch"
        case .valueNotRepresentable: return "value not representable"
        case .invalidArgument: return "invalid argument"
        case .encodeFailed: return "encoding failed"
        default: return code.description
        }
    }

    /// The same error with source context filled in where it is missing.
    func located(file: String?, byteOffset: Int? = nil, recordIndex: Int? = nil) -> MiniSEEDError {
        var copy = self
        if copy.file == nil { copy.file = file }
        if copy.byteOffset == nil { copy.byteOffset = byteOffset }
        if copy.recordIndex == nil { copy.recordIndex = recordIndex }
        return copy
    }
}
