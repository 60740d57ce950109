// Ingest: the station ingestion daemon. SeedLink in → per-stream gap/overlap/duplicate checks →
// the shared Pipeline (same code path as replay) → warnings out to the forwarder.
