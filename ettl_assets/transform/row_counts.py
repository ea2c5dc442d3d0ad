"""Rows a dbt model holds in a partition window, counted from its Parquet files.

Counting through Spark would open a second JVM on the embedded metastore
(docs/design-decisions.md#d14); the Parquet footers already know their row counts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.dataset as ds

from ettl_assets import settings
from ettl_assets.transform.translator import TieredTranslator


@dataclass(frozen=True)
class ModelTable:
    """Where a dbt model's Spark table keeps its files, and its partition column if any."""

    unique_id: str
    schema: str
    name: str
    partition_column: str | None

    @property
    def path(self) -> Path:
        return settings.table_dir(self.schema, self.name)


def model_tables(manifest: Mapping[str, Any]) -> dict[dg.AssetKey, ModelTable]:
    translator = TieredTranslator()
    tables = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        partition_by = node["config"].get("partition_by")
        if isinstance(partition_by, list):
            partition_by = partition_by[0] if partition_by else None
        key = translator.get_asset_key(node)
        tables[key] = ModelTable(node["unique_id"], node["schema"], node["alias"], partition_by)
    return tables


def window_filter(
    table: ModelTable, start: str | None = None, end: str | None = None
) -> ds.Expression | None:
    """[start, end) of the partition column; None (every row) for an unpartitioned table."""
    if table.partition_column is None or start is None or end is None:
        return None
    # Hive partition values are read as text; ISO dates compare correctly as text.
    column = ds.field(table.partition_column).cast("string")
    return (column >= start) & (column < end)


def window_scanner(
    table: ModelTable, start: str | None = None, end: str | None = None
) -> ds.Scanner | None:
    """The table's rows in [start, end) (all rows when unpartitioned), read from its Parquet
    files; None for a table no run has written a row to yet (a source with no delivery): it
    has no files, so no partition column to filter on."""
    dataset = ds.dataset(table.path, format="parquet", partitioning="hive")
    if not dataset.files:
        return None
    return dataset.scanner(filter=window_filter(table, start, end))


def rows_in_window(table: ModelTable, start: str | None = None, end: str | None = None) -> int:
    """Rows in [start, end) of the partition column, or all rows of an unpartitioned table."""
    scanner = window_scanner(table, start, end)
    return scanner.count_rows() if scanner is not None else 0
