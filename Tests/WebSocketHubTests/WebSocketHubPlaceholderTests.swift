import Testing

@testable import WebSocketHub
