public import WebSocketHub

/// The relay's WebSocket hub is a ``WarningBroadcaster``: every newly accepted envelope is fanned
/// out to the hub's authenticated subscribers. `broadcast(text:)` encodes the frame once and
/// returns without waiting for any subscriber.
extension WebSocketHub: WarningBroadcaster {}
