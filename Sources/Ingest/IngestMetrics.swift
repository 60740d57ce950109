public import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, on an explicit registry (never the global one).
///
/// | metric | labels | meaning |
/// | --- | --- | --- |
/// | `quakewarn_ingest_records_total` | stream, decision | records per ``InputGuard/Kind`` |
/// | `quakewarn_ingest_gaps_total`, `_overlaps_total`, `_duplicates_total`, `_out_of_order_total`, `_time_jumps_total` | stream | the same decisions grouped |
/// | `quakewarn_ingest_samples_total` | stream | samples passed to the pipeline |
/// | `quakewarn_ingest_data_latency_seconds` | stream | wall clock at arrival − end time of the last sample |
/// | `quakewarn_ingest_last_sample_time_seconds` | stream | end time of the last sample (epoch s; `time() − x` is the live latency) |
/// | `quakewarn_ingest_clock_locked` | stream | I/O flag bit 5 of the last record (1 locked) |
/// | `quakewarn_ingest_timing_quality_percent` | stream | Blockette 1001 timing quality of the last record (−1: none) |
/// | `quakewarn_ingest_time_tag_questionable_total` | stream | records with data-quality bit 7 |
/// | `quakewarn_ingest_processing_latency_seconds` | – | record arrival → pipeline and sinks done (histogram) |
/// | `quakewarn_ingest_keep_warm_duration_seconds` | – | one keep-warm run (histogram; `keepWarmMilliseconds`) |
/// | `quakewarn_ingest_picks_total`, `_events_total`, `_warnings_total` | – | pipeline outputs |
/// | `quakewarn_ingest_decode_errors_total`, `_reconnects_total`, `_sink_errors_total` | – | faults |
public final class IngestMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let picks: Counter
    public let events: Counter
    public let warnings: Counter
    public let decodeErrors: Counter
    public let reconnects: Counter
    public let sinkErrors: Counter
    public let processingLatency: DurationHistogram
    /// One keep-warm run (ingest.yaml `keepWarmMilliseconds`): a record arriving meanwhile waits
    /// up to this long before its read.
    public let keepWarmDuration: DurationHistogram

    final class Station: Sendable {
        let samples: Counter
        let gaps: Counter
        let overlaps: Counter
        let duplicates: Counter
        let outOfOrder: Counter
        let timeJumps: Counter
        let latency: Gauge
        let lastSample: Gauge
        let clockLocked: Gauge
        let timingQuality: Gauge
        let questionable: Counter

        init(_ r: PrometheusCollectorRegistry, _ station: String) {
            typealias M = IngestMetrics
            let l = [("stream", station)]
            samples = r.makeCounter(descriptor: IngestMetrics.descriptor("samples", "total", "Samples passed to the pipeline"), labels: l)
            gaps = r.makeCounter(descriptor: IngestMetrics.descriptor("gaps", "total", "Records that start after a gap"), labels: l)
            overlaps = r.makeCounter(descriptor: IngestMetrics.descriptor("overlaps", "total", "Records that partly overlap accepted data (old samples dropped)"), labels: l)
            duplicates = r.makeCounter(descriptor: IngestMetrics.descriptor("duplicates", "total", "Records dropped as duplicates"), labels: l)
            outOfOrder = r.makeCounter(descriptor: IngestMetrics.descriptor("out_of_order", "total", "Late records inside an earlier gap (dropped)"), labels: l)
            timeJumps = r.makeCounter(descriptor: IngestMetrics.descriptor("time_jumps", "total", "Records more than timeJumpSeconds off the expected time"), labels: l)
            latency = r.makeGauge(descriptor: IngestMetrics.descriptor("data_latency", "seconds", "Wall clock at arrival minus the end time of the last sample"), labels: l)
            lastSample = r.makeGauge(descriptor: IngestMetrics.descriptor("last_sample_time", "seconds", "End time of the last accepted sample (Unix seconds)"), labels: l)
            clockLocked = r.makeGauge(descriptor: IngestMetrics.descriptor("clock_locked", "", "I/O and clock flag bit 5 of the last record (1 = locked)"), labels: l)
            timingQuality = r.makeGauge(descriptor: IngestMetrics.descriptor("timing_quality", "percent", "Blockette 1001 timing quality of the last record (-1: none)"), labels: l)
            questionable = r.makeCounter(descriptor: IngestMetrics.descriptor("time_tag_questionable", "total", "Records with data-quality flag bit 7 (time tag questionable)"), labels: l)
        }
    }

    /// The Prometheus text exposition of every metric (what `/metrics` serves).
    public func exposition() -> String {
        String(decoding: registry.emitToBuffer(), as: UTF8.self)
    }

    static func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "quakewarn", subsystem: "ingest", metricName: name, unitName: unit, helpText: help)
    }

    private let stations = Mutex<[String: Station]>([:])
    private let decisions = Mutex<[String: Counter]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        picks = registry.makeCounter(descriptor: IngestMetrics.descriptor("picks", "total", "Picks emitted by the pipeline"))
        events = registry.makeCounter(descriptor: IngestMetrics.descriptor("events", "total", "Event messages emitted by the pipeline"))
        warnings = registry.makeCounter(descriptor: IngestMetrics.descriptor("warnings", "total", "Warnings emitted by the pipeline"))
        decodeErrors = registry.makeCounter(descriptor: IngestMetrics.descriptor("decode_errors", "total", "Undecodable packets or skipped bytes"))
        reconnects = registry.makeCounter(descriptor: IngestMetrics.descriptor("reconnects", "total", "SeedLink disconnections (each followed by a reconnect)"))
        sinkErrors = registry.makeCounter(descriptor: IngestMetrics.descriptor("sink_errors", "total", "Failed output writes or warning deliveries"))
        processingLatency = registry.makeDurationHistogram(
            descriptor: Self.descriptor("processing_latency", "seconds", "Record arrival to pipeline and sinks done"),
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1)])
        keepWarmDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptor("keep_warm_duration", "seconds", "One keep-warm run of the warning path (keepWarmMilliseconds)"),
            buckets: [.microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                      .milliseconds(1), .milliseconds(5)])
    }

    func station(_ code: String) -> Station {
        stations.withLock { s in
            if let existing = s[code] { return existing }
            let made = Station(registry, code)
            s[code] = made
            return made
        }
    }

    /// The counter of one guard decision kind for a stream (`quakewarn_ingest_records_total`);
    /// the processor keeps it, so a record costs no string key or lookup here.
    func decisionCounter(_ kind: InputGuard.Kind, station code: String) -> Counter {
        let key = code + "\u{0}" + kind.rawValue
        return decisions.withLock { d in
            if let c = d[key] { return c }
            let c = registry.makeCounter(descriptor: IngestMetrics.descriptor("records", "total", "Records per input-guard decision"),
                                         labels: [("stream", code), ("decision", kind.rawValue)])
            d[key] = c
            return c
        }
    }

    /// The grouped counters (gaps, overlaps, …) of one guard decision.
    func countGrouped(_ kind: InputGuard.Kind, station s: Station) {
        switch kind {
        case .gap: s.gaps.increment()
        case .partialOverlap: s.overlaps.increment()
        case .duplicate, .exactDuplicate: s.duplicates.increment()
        case .outOfOrder: s.outOfOrder.increment()
        case .timeJumpForward, .timeJumpBackward: s.timeJumps.increment()
        default: break
        }
    }

    func record(clock: ClockQuality, station s: Station) {
        s.clockLocked.set(to: clock.clockLocked ? 1.0 : 0.0)
        s.timingQuality.set(to: Double(clock.timingQualityPercent ?? -1))
        if clock.timeTagQuestionable { s.questionable.increment() }
    }
}
