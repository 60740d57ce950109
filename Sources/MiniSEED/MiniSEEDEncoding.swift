/// The data encoding of a miniSEED 2 record (SEED 2.4 manual, Blockette 1000, field 3).
///
/// ``description`` uses ObsPy's names (`"STEIM2"`, `"FLOAT64"`, …) so JSON output of this
/// project matches what ObsPy users see.
public enum MiniSEEDEncoding: Sendable, Hashable, CustomStringConvertible {
    /// 16-bit two's-complement integers (SEED code 1).
    case int16
    /// 32-bit two's-complement integers (SEED code 3).
    case int32
    /// IEEE-754 binary32 (SEED code 4).
    case float32
    /// IEEE-754 binary64 (SEED code 5).
    case float64
    /// Steim-1 compression of 32-bit integers (SEED code 10).
    case steim1
    /// Steim-2 compression of 32-bit integers (SEED code 11).
    case steim2
    /// ASCII text, e.g. `LOG` channels (SEED code 0). Not numeric.
    case text
    /// Any other SEED encoding code (24-bit integers, GEOSCOPE, CDSN, SRO, DWWSSN, or an
    /// invalid value). Such records are reported, not decoded.
    case other(Int)

    /// Maps a SEED encoding code (Blockette 1000) to a case.
    public init(seedCode: Int) {
        switch seedCode {
        case 0: self = .text
        case 1: self = .int16
        case 3: self = .int32
        case 4: self = .float32
        case 5: self = .float64
        case 10: self = .steim1
        case 11: self = .steim2
        default: self = .other(seedCode)
        }
    }

    /// The SEED encoding code written in Blockette 1000.
    public var seedCode: Int {
        switch self {
        case .text: return 0
        case .int16: return 1
        case .int32: return 3
        case .float32: return 4
        case .float64: return 5
        case .steim1: return 10
        case .steim2: return 11
        case .other(let code): return code
        }
    }

    /// True for the encodings this module decodes into numeric samples.
    public var isNumeric: Bool {
        switch self {
        case .int16, .int32, .float32, .float64, .steim1, .steim2: return true
        case .text, .other: return false
        }
    }

    /// ObsPy's name: `INT16`, `INT32`, `FLOAT32`, `FLOAT64`, `STEIM1`, `STEIM2`, `TEXT`, or
    /// `ENCODING(n)` for any other code.
    public var description: String {
        switch self {
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .float32: return "FLOAT32"
        case .float64: return "FLOAT64"
        case .steim1: return "STEIM1"
        case .steim2: return "STEIM2"
        case .text: return "TEXT"
        case .other(let code): return "ENCODING(\(code))"
        }
    }
}
