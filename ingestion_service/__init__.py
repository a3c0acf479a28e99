"""The ingestion service: consumes the payments and imports topics and keeps PostgreSQL equal to the latest valid
version of every transaction. Invalid messages go to the dead-letter topic and the rejected_events table."""
