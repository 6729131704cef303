"""Bronze: every source entity as delivered, one partition per ingestion day."""
