#!/usr/bin/env python3
"""Fetches a time window from a SeedLink 3 server with ObsPy's SeedLink client (SLClient), the
real third-party client used by QuakeWarn's interop test (Tests/QuakeWarnCLITests/
FeedCommandInteropTests.swift).

Usage: seedlink_obspy_client.py HOST PORT MULTISELECT BEGIN END
  MULTISELECT: ObsPy's "NET_STA:LLCCC,NET_STA:CCC" syntax (selectors may use ? wildcards)
  BEGIN, END: ISO-8601 UTC times; ObsPy sends TIME begin end, and the server ends with END.

Prints one JSON object on stdout:
  {"packets": [{"seq", "stream", "start_ns", "rate", "count", "raw_hex"}...],
   "streams": {"NET.STA.LOC.CHA": {"start_ns", "count", "values"}}}
packets in arrival order (raw_hex = the 512 record bytes); streams = ObsPy's own merge of all
received records (obspy.Stream.merge) with the full sample values.
"""
import io
import json
import signal
import sys

from obspy import Stream, UTCDateTime, read
from obspy.clients.seedlink.slclient import SLClient
from obspy.clients.seedlink.slpacket import SLPacket


def main():
    host, port, multiselect, begin, end = sys.argv[1:6]
    # ObsPy reconnects forever on errors: give up after 45 s instead of hanging the test.
    signal.alarm(45)
    client = SLClient(timeout=10)
    client.slconn.set_sl_address(f"{host}:{port}")
    client.multiselect = multiselect
    client.begin_time = UTCDateTime(begin)
    client.end_time = UTCDateTime(end)
    client.initialize()
    packets = []

    def handler(count, slpack):
        if slpack is None or slpack == SLPacket.SLNOPACKET or slpack == SLPacket.SLERROR:
            return False
        if slpack.get_type() in (SLPacket.TYPE_SLINF, SLPacket.TYPE_SLINFT):
            return False
        trace = slpack.get_trace()
        packets.append({
            "seq": slpack.get_sequence_number(),
            "stream": trace.id,
            "start_ns": trace.stats.starttime.ns,
            "rate": trace.stats.sampling_rate,
            "count": int(trace.stats.npts),
            "raw_hex": bytes(slpack.msrecord).hex(),
        })
        return False

    client.run(packet_handler=handler)
    # ObsPy's own decoding of the received bytes, merged per stream.
    stream = Stream()
    for p in packets:
        stream += read(io.BytesIO(bytes.fromhex(p["raw_hex"])), format="MSEED")
    stream.merge(method=0)
    streams = {}
    for tr in stream:
        if hasattr(tr.data, "mask"):
            raise SystemExit(f"{tr.id}: received data has gaps or overlaps")
        streams[tr.id] = {
            "start_ns": tr.stats.starttime.ns,
            "count": int(tr.stats.npts),
            "values": [float(v) for v in tr.data.tolist()],
        }
    json.dump({"packets": packets, "streams": streams}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
