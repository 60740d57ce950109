// Relay: the forwarding service. Authenticated warning input → Ed25519 verification → durable
// outbox (SQLite/GRDB, WAL) → MQTT 3.1.1 QoS 1 to the relay platform and WebSocket subscribers.
