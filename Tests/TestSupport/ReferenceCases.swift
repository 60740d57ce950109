import Foundation

/// One `Tests/Fixtures/reference/<trace>.json` file: ObsPy 1.5.1 results for one real trace
/// (copied from the project's shared data set; provenance in `Tests/Fixtures/README-picking.md`).
public struct ReferenceTrace: Decodable, Sendable {
    /// e.g. `obspy_AYT_BHZ`; the miniSEED fixture is `Tests/Fixtures/mseed/<traceID>.mseed`.
    public var traceID: String
    /// ISO-8601 UTC time of the first sample, as printed by ObsPy.
    public var startTime: String
    public var samplingRateHz: Double
    public var sampleCount: Int
    /// The trace mean, as a C99 hex float string (exact).
    public var meanHex: String
    /// Cases keyed by case id, e.g. `obspy_AYT_BHZ__classic_0.5_10`.
    public var cases: [String: ReferenceCase]

    /// The exact mean parsed from ``meanHex`` (nil if the text is not a hex float).
    public var mean: Double? { Double(meanHex) }

    /// Path of the miniSEED fixture of this trace.
    public var mseedPath: String { Fixtures.path("mseed/\(traceID).mseed") }

    /// The STA/LTA cases (`kind == "stalta"`), sorted by case id.
    public var staltaCases: [ReferenceCase] {
        cases.values.filter { $0.kind == "stalta" }.sorted { $0.caseID < $1.caseID }
    }

    enum CodingKeys: String, CodingKey {
        case traceID = "trace_id", startTime = "starttime", samplingRateHz = "sampling_rate", sampleCount = "npts"
        case input, cases
    }
    enum InputKeys: String, CodingKey { case meanHex = "mean_hex" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        traceID = try c.decode(String.self, forKey: .traceID)
        startTime = try c.decode(String.self, forKey: .startTime)
        samplingRateHz = try c.decode(Double.self, forKey: .samplingRateHz)
        sampleCount = try c.decode(Int.self, forKey: .sampleCount)
        let input = try c.nestedContainer(keyedBy: InputKeys.self, forKey: .input)
        meanHex = try input.decode(String.self, forKey: .meanHex)
        cases = try c.decode([String: ReferenceCase].self, forKey: .cases)
    }
}

/// One case of a reference trace. STA/LTA cases have all the optional STA/LTA fields.
public struct ReferenceCase: Decodable, Sendable {
    public var caseID: String
    /// `stalta` or `pk_baer`.
    public var kind: String
    /// `classic_sta_lta` or `recursive_sta_lta`.
    public var algorithm: String?
    public var nsta: Int?
    public var nlta: Int?
    public var staSeconds: Double?
    public var ltaSeconds: Double?
    public var onThreshold: Double?
    public var offThreshold: Double?
    /// Relative path under `Tests/Fixtures/`, e.g. `reference/cf/<case>.npy`.
    public var cfFile: String?
    public var cfLength: Int?
    public var cfZeroPrefix: Int?
    /// `[on, off]` sample pairs from ObsPy's `trigger_onset`.
    public var triggers: [[Int]]?
    /// ObsPy's float64 CF at a few sample indices (keys are decimal indices). Printed with
    /// Python's shortest round-trip repr, so exact. Note: decode with `JSONDecoder` (exact);
    /// Foundation's `JSONSerialization` on Linux mis-rounds some doubles by 1–3 ulp.
    public var cfSamplesCheck: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case caseID = "case_id", kind, algorithm, nsta, nlta, staSeconds = "sta_s", ltaSeconds = "lta_s"
        case onThreshold = "thr_on", offThreshold = "thr_off", cfFile = "cf_file", cfLength = "cf_len"
        case cfZeroPrefix = "cf_zero_prefix", triggers, cfSamplesCheck = "cf_samples_check"
    }

    /// Absolute path of the CF `.npy` fixture, if the case has one.
    public var cfPath: String? { cfFile.map { Fixtures.path($0) } }
}

/// Loads the reference JSON fixtures.
public enum ReferenceCases {
    /// Trace ids of all reference fixtures (file names without `.json`), sorted.
    public static func traceIDs() throws -> [String] {
        let dir = Fixtures.path("reference")
        return try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".json") && !$0.contains("__") }
            .map { String($0.dropLast(5)) }
            .sorted()
    }

    /// Decodes `Tests/Fixtures/reference/<traceID>.json`.
    public static func load(_ traceID: String) throws -> ReferenceTrace {
        let path = Fixtures.path("reference/\(traceID).json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, reason: "cannot read reference JSON")
        }
        return try JSONDecoder().decode(ReferenceTrace.self, from: data)
    }
}
