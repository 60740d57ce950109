// Pipeline: the station-to-warning chain shared by replay and the live ingest daemon, driven by data time.
