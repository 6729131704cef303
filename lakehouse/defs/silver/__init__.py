"""Silver: typed, standardized, deduplicated TPC-H entities and web events, with quarantine."""
