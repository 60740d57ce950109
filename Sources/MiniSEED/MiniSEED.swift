// MiniSEED: miniSEED 2 reading and writing over libmseed 2.19 (internal import of CMiniSEED).
//
// Public API
//   MiniSEEDReader.read(path:strict:) / read(bytes:source:strict:) -> MiniSEEDVolume
//       whole files: per-stream contiguous segments (SampleBlock), gaps/overlaps
//       (StreamDiscontinuity), per-stream summaries, encodings, TEXT records, skipped problems.
//   MiniSEEDRecordDecoder   incremental, chunk-agnostic record decoder for byte streams
//       (SeedLink): append(_:) bytes, next() -> MiniSEEDRecord? (nil = need more bytes).
//   MiniSEEDWriter.encode(_:encoding:recordLength:firstSequenceNumber:) / write(_:encoding:recordLength:to:)
//   MiniSEEDError (code, file, byteOffset, recordIndex, field, reason), MiniSEEDEncoding.
//
// Design notes
// - Headers and blockettes are parsed and bounds-checked in Swift (RecordHeader.swift) before
//   libmseed sees a record: libmseed 2.19 trusts several header values (sample counts of
//   uncompressed encodings, Blockette 1000's record length) when it touches memory.
// - Data sections are decoded by libmseed `msr_unpack`; packing uses `msr_pack`. All libmseed
//   calls run under one lock (LibMSEED.swift) because libmseed 2 logs through process-global
//   state; its log lines are captured into MiniSEEDError reasons instead of going to stderr.
// - Times: the record's BTime (0.0001 s) + time correction + Blockette 1001 microseconds,
//   converted exactly to integer nanoseconds (Timestamp). miniSEED 2 and libmseed's hptime_t
//   have microsecond resolution; nothing finer exists in the format, and the writer refuses
//   start times with sub-microsecond parts rather than round them.
// - Continuity: a record continues a segment when its start is within half a sample interval
//   of where the segment's samples would continue (libmseed/ObsPy default); see MiniSEEDReader.
