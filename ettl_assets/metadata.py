"""Materialization metadata keys that every tier records, so runs can be summed up per tier."""

# Rows the materialization wrote: for a daily asset, rows in the run's window.
ROWS_WRITTEN = "rows_written"
# Seconds spent; the key dagster-dbt already uses for dbt models.
DURATION = "Execution Duration"
