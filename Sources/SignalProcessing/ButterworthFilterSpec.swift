/// A filter chosen on the command line (`quakewarn pick --filter …`):
/// `none`, `highpass:F`, `lowpass:F`, `bandpass:F1:F2` with corner frequencies in Hz.
///
/// Every variant is a causal Butterworth filter of order ``defaultOrder`` (4), like SeisComP's
/// `BW(4, fmin, fmax)` detector filter (scautopick default `BW(4,0.7,2)`); see ``ButterworthFilter``
/// for delay and warm-up. Corners are checked against the sampling rate only in
/// ``makeFilter(samplingRateHz:)``, because the rate is known only when data arrive.
public enum FilterSpec: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// No filtering.
    case none
    /// High-pass above `cornerHz`.
    case highpass(cornerHz: Double, order: Int = FilterSpec.defaultOrder)
    /// Low-pass below `cornerHz`.
    case lowpass(cornerHz: Double, order: Int = FilterSpec.defaultOrder)
    /// Band-pass `lowHz...highHz`.
    case bandpass(lowHz: Double, highHz: Double, order: Int = FilterSpec.defaultOrder)

    /// Order used by the parsed forms: 4 (as SeisComP's `BW(4,…)`).
    public static let defaultOrder = 4

    /// Parses `none`, `highpass:F`, `lowpass:F` or `bandpass:F1:F2` (case-insensitive keyword,
    /// decimal frequencies in Hz, `F > 0`, `F1 < F2`). The thrown error's ``FilterSpecError/reason``
    /// is one line naming the offending text.
    public init(parsing text: String) throws(FilterSpecError) {
        let trimmed = text.trimmingSpaces
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let keyword = parts.first?.lowercased(), !keyword.isEmpty else {
            throw FilterSpecError(text: text, reason: "empty filter; use none, highpass:F, lowpass:F or bandpass:F1:F2")
        }
        func frequency(_ s: String, _ what: String) throws(FilterSpecError) -> Double {
            guard let v = Double(s), v.isFinite else {
                throw FilterSpecError(text: text, reason: "\(what) '\(s)' is not a number (Hz)")
            }
            guard v > 0 else { throw FilterSpecError(text: text, reason: "\(what) \(v) Hz must be > 0") }
            return v
        }
        func arity(_ n: Int, _ form: String) throws(FilterSpecError) {
            guard parts.count == n + 1 else {
                throw FilterSpecError(text: text, reason: "expected \(form)")
            }
        }
        switch keyword {
        case "none":
            try arity(0, "none")
            self = .none
        case "highpass":
            try arity(1, "highpass:F")
            self = .highpass(cornerHz: try frequency(parts[1], "corner frequency"))
        case "lowpass":
            try arity(1, "lowpass:F")
            self = .lowpass(cornerHz: try frequency(parts[1], "corner frequency"))
        case "bandpass":
            try arity(2, "bandpass:F1:F2")
            let lo = try frequency(parts[1], "low corner")
            let hi = try frequency(parts[2], "high corner")
            guard lo < hi else {
                throw FilterSpecError(text: text, reason: "low corner \(lo) Hz must be below high corner \(hi) Hz")
            }
            self = .bandpass(lowHz: lo, highHz: hi)
        default:
            throw FilterSpecError(text: text,
                                  reason: "unknown filter '\(keyword)'; use none, highpass:F, lowpass:F or bandpass:F1:F2")
        }
    }

    /// The spec in its parseable form (order omitted when it is the default).
    public var description: String {
        func fmt(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        func ord(_ n: Int) -> String { n == Self.defaultOrder ? "" : " (order \(n))" }
        switch self {
        case .none: return "none"
        case .highpass(let f, let n): return "highpass:\(fmt(f))" + ord(n)
        case .lowpass(let f, let n): return "lowpass:\(fmt(f))" + ord(n)
        case .bandpass(let lo, let hi, let n): return "bandpass:\(fmt(lo)):\(fmt(hi))" + ord(n)
        }
    }

    /// The filter for data at `samplingRateHz`, or nil for ``none``. Throws ``FilterDesignError``
    /// if a corner is not below Nyquist (`fs/2`).
    public func makeFilter(samplingRateHz: Double) throws(FilterDesignError) -> ButterworthFilter? {
        switch self {
        case .none: return nil
        case .highpass(let f, let n): return try ButterworthFilter(.highpass(cornerHz: f), order: n, samplingRateHz: samplingRateHz)
        case .lowpass(let f, let n): return try ButterworthFilter(.lowpass(cornerHz: f), order: n, samplingRateHz: samplingRateHz)
        case .bandpass(let lo, let hi, let n):
            return try ButterworthFilter(.bandpass(lowHz: lo, highHz: hi), order: n, samplingRateHz: samplingRateHz)
        }
    }
}

/// Why a `--filter` string could not be parsed.
public struct FilterSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public var text: String
    /// One-line reason, e.g. `low corner 3.0 Hz must be below high corner 1.0 Hz`.
    public var reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "filter '\(text)': \(reason)" }
}

extension String {
    /// The string without leading/trailing spaces and tabs (no Foundation needed).
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
