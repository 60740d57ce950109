// Alerting: warning messages (JSON, CAP 1.2), Ed25519 signatures, predicted intensity and countdown per target, configuration.
