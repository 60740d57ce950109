// WebSocketHub: a token-authenticated WebSocket endpoint (SwiftNIO) that fans warnings out to
// terminals and dashboards (school loudspeaker controllers, county dashboards) without a broker.
