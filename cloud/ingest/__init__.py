"""Cloud ingest."""
