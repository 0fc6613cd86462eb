"""What writes a data directory: the demo generator (ingest.demo) and the importers of real data (ingest.importing)."""
