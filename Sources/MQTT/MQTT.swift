// MQTT: the MQTT 3.1.1 subset QuakeWarn's forwarder needs (QoS 0/1 publish, subscribe for
// monitoring and tests), on SwiftNIO.
//
// Layout of the module:
// - `MQTTPacket.swift`        the packet model (one enum case per control packet type);
// - `MQTTTopic.swift`         topic name / topic filter rules (spec §4.7);
// - `MQTTPacketEncoder.swift` packet → bytes (`MQTTPacket.encode(into:)`, `MQTTPacketEncoder`);
// - `MQTTPacketDecoder.swift` bytes → packet (`MQTTPacketDecoder`, a NIO single-step decoder);
// - `MQTTError.swift`         the one error type, with packet type, byte offset and reason;
// - `MQTTClient.swift`        an actor-based client with QoS 1 in-flight window, reconnect
//                              with capped exponential backoff and DUP re-sends;
// - `MQTTClientConfiguration.swift` its settings (durations as `Duration`);
// - `MQTTConnectionTimersHandler.swift` CONNACK timeout and keep-alive on the event loop.
//
// Concurrency: packets and the codec are `Sendable` values; `MQTTClient` is an actor; the NIO
// channel handlers are confined to their event loop and marked unavailable-`Sendable`.
//
// Reference: OASIS, "MQTT Version 3.1.1", OASIS Standard, 29 October 2014 (plus Errata 01,
// 10 December 2015). Section numbers (§2.2.3, §3.3.1…) and conformance statement ids
// ([MQTT-3.3.1-2]…) in the doc comments refer to that document.
//
// Topic conventions (which topics warnings, picks, heartbeats use) belong to the relay, not to
// this module: nothing here is global or QuakeWarn-specific.
