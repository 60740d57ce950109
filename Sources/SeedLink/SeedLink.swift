// SeedLink: SeedLink 3.1 protocol (client and feed server) on SwiftNIO.
//
// Protocol pieces (never trapping on bad input):
// - `SeedLinkCommand`: client commands (HELLO, STATION, SELECT, DATA, FETCH, TIME, END, BYE,
//   INFO, CAT), parsed from and encoded to command lines.
// - `SeedLinkSelector`: `SELECT` patterns (`[LL]CCC[.T]`, `?` wildcards, `!` negation).
// - `SeedLinkFrameDecoder`: incremental client-side decoder of `SL` + 6 hex digits + 512-byte
//   miniSEED packets, `SLINFO` frames, `ERROR\r\n` and `END`, with resynchronisation.
// - `SeedLinkInfo`: the small XML documents answering `INFO`, packed into miniSEED TEXT records.
//
// Services:
// - `SeedLinkFeed` + `SeedLinkServer`: a SeedLink 3.1 server playing miniSEED files (`quakewarn feed`).
// - `SeedLinkClient`: reconnecting multi-station client with a state file.
