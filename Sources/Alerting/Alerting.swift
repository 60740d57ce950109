// Alerting: warning messages (JSON, CAP 1.2), Ed25519 signatures, predicted intensity and countdown
// per target, and the operator's YAML configuration.
//
// Re-exported so that users of the signing API (CLI, tests) can name the key types without a direct
// dependency on swift-crypto.
@_exported public import Crypto
