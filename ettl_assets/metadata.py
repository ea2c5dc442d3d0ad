"""Materialization metadata that every tier records, so runs can be summed up per tier."""

# Rows the materialization wrote: for a daily asset, rows in the run's window.
ROWS_WRITTEN = "rows_written"
# Seconds spent; the key dagster-dbt already uses for dbt models.
DURATION = "Execution Duration"
# Dagster's own keys, written by bronze and dbt assets and read by `ettl lineage` and the
# OpenLineage events.
COLUMN_SCHEMA = "dagster/column_schema"
COLUMN_LINEAGE = "dagster/column_lineage"
TABLE_NAME = "dagster/table_name"  # definition metadata: the Spark table an asset writes
# What a materialization read and wrote outside the warehouse: the landing files of a bronze
# run (their local paths or URLs), the file a report was rendered into.
FILES_READ = "files_read"
PATH = "path"
# The SQL a dbt model ran, as dbt compiled it for the run (its window filled in).
COMPILED_SQL = "compiled_sql"
# Markdown of a gold table's first rows (ettl_assets/transform/preview.py).
PREVIEW = "preview"


def rows_metadata(rows: int, single_partition: bool) -> dict[str, int]:
    """Rows written, plus Dagster's row count when the materialization is one table/partition.

    A range run records one event per partition, all with the same metadata: the window's total
    there would be misread as each partition's row count, so it only goes in `rows_written`.
    """
    metadata = {ROWS_WRITTEN: rows}
    if single_partition:
        metadata["dagster/row_count"] = rows
    return metadata
