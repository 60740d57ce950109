public import Prometheus

/// The relay's metrics on an explicit `PrometheusCollectorRegistry` (served at `/metrics`).
///
/// | metric | type | meaning |
/// | --- | --- | --- |
/// | `quakewarn_relay_accepted_total` | counter | input lines accepted and committed (new keys) |
/// | `quakewarn_relay_duplicates_total` | counter | input lines whose key and bytes were already stored |
/// | `quakewarn_relay_rejected_total{reason}` | counter | input lines rejected, by reject code |
/// | `quakewarn_relay_unauthorized_total` | counter | connections closed for a bad or missing token |
/// | `quakewarn_relay_queue_depth` | gauge | outbox entries not yet acknowledged by the broker |
/// | `quakewarn_relay_oldest_unacknowledged_age_seconds` | gauge | age of the oldest of them (0 if none) |
/// | `quakewarn_relay_delivery_latency_seconds{output}` | histogram | input line received → `mqtt` PUBACK, or → handed to the `websocket` broadcaster |
/// | `quakewarn_relay_outbox_append_seconds` | histogram | one outbox append transaction |
/// | `quakewarn_relay_mqtt_reconnects_total` | counter | broker connections established after the first |
/// | `quakewarn_relay_mqtt_connected` | gauge | 1 while connected to the broker |
public struct RelayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let accepted: Counter
    let duplicates: Counter
    let unauthorized: Counter
    let queueDepth: Gauge
    let oldestAge: Gauge
    let mqttLatency: DurationHistogram
    let websocketLatency: DurationHistogram
    let appendLatency: DurationHistogram
    let reconnects: Counter
    let connected: Gauge

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
    ]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "quakewarn", subsystem: "relay", metricName: metric, unitName: unit, helpText: help)
        }
        accepted = registry.makeCounter(descriptor: name("accepted", "total", "Input warnings accepted and committed"))
        duplicates = registry.makeCounter(descriptor: name("duplicates", "total", "Input warnings already in the outbox"))
        unauthorized = registry.makeCounter(descriptor: name("unauthorized", "total", "Input connections refused (token)"))
        queueDepth = registry.makeGauge(descriptor: name("queue_depth", "", "Outbox entries not acknowledged by the broker"))
        oldestAge = registry.makeGauge(descriptor: name("oldest_unacknowledged_age", "seconds", "Age of the oldest unacknowledged entry"))
        let latency = name("delivery_latency", "seconds", "Input received to output acknowledgement")
        mqttLatency = registry.makeDurationHistogram(descriptor: latency, labels: [("output", "mqtt")], buckets: Self.latencyBuckets)
        websocketLatency = registry.makeDurationHistogram(descriptor: latency, labels: [("output", "websocket")],
                                                          buckets: Self.latencyBuckets)
        appendLatency = registry.makeDurationHistogram(descriptor: name("outbox_append", "seconds", "Outbox append transaction"),
                                                       buckets: Self.latencyBuckets)
        reconnects = registry.makeCounter(descriptor: name("mqtt_reconnects", "total", "Broker connections after the first"))
        connected = registry.makeGauge(descriptor: name("mqtt_connected", "", "1 while connected to the broker"))
    }

    /// The registry rendered in the Prometheus text format (what `/metrics` serves).
    public func exposition() -> String { registry.emitToString() }

    func rejected(_ code: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "quakewarn", subsystem: "relay", metricName: "rejected", unitName: "total",
                                             helpText: "Input lines rejected, by reason"),
            labels: [("reason", code)]
        ).increment()
    }
}
