"""REPORTS: what the gold marts look like to people (rendered from gold, never from raw data)."""
