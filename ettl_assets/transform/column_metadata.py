"""Column schema and column-level lineage of each dbt model, for its materialization.

dagster-dbt's `fetch_column_metadata()` asks the warehouse for the column types, which on the
embedded Spark opens a second JVM on the same metastore (docs/design-decisions.md#d14). The types
are already known without Spark: a model's from its Parquet files, a bronze source's from the
registry. With them, dagster-dbt's own lineage builder (sqlglot over the compiled SQL) gives
`dagster/column_lineage`.
"""

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.dataset as ds
from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata, _build_column_lineage_metadata

from ettl_assets import settings
from ettl_assets.bronze.registry import SourceSpec, load_registry
from ettl_assets.bronze.table_columns import bronze_columns, spark_type
from ettl_assets.metadata import COLUMN_SCHEMA
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.translator import TieredTranslator


def model_columns(node: Mapping[str, Any]) -> dict[str, str]:
    """A model's columns and types, from the Parquet files of its table."""
    path = settings.table_dir(node["schema"], node["alias"])
    schema = ds.dataset(path, format="parquet", partitioning="hive").schema
    partition_by = node["config"].get("partition_by") or []
    partition_by = [partition_by] if isinstance(partition_by, str) else partition_by
    columns = {f.name: spark_type(f.type) for f in schema if f.name not in partition_by}
    # Partition values live in folder names; every partition column here is a date.
    return columns | {name: "date" for name in partition_by}


@functools.cache
def _bronze_specs() -> dict[str, SourceSpec]:
    """The registry, parsed once per process (it is the code location's own declaration)."""
    return {spec.name: spec for spec in load_registry()}


def source_columns(source: Mapping[str, Any]) -> dict[str, str]:
    """A bronze table's columns as register_bronze_tables.sql declares them to Spark."""
    spec = _bronze_specs().get(source["name"])
    if spec is None:  # not a bronze data table (e.g. a quarantine table)
        return {}
    return bronze_columns(spec)


class RelationColumns:
    """Columns and types of the relations one dbt step reads and builds, each read once: the
    column metadata and the OpenLineage events of every model ask for the same tables. A model
    is first asked for once dbt has built it (its own event, or a child's: children run later).
    """

    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self.manifest = manifest
        self._read: dict[str, dict[str, str]] = {}

    def __call__(self, unique_id: str) -> dict[str, str]:
        if unique_id not in self._read:
            if unique_id in self.manifest["sources"]:
                columns = source_columns(self.manifest["sources"][unique_id])
            else:
                columns = model_columns(self.manifest["nodes"][unique_id])
            self._read[unique_id] = columns
        return self._read[unique_id]


def _typed(columns: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"data_type": data_type} for name, data_type in columns.items()}


def column_metadata(
    relations: RelationColumns, unique_id: str, target_path: Path | None
) -> dict[str, Any]:
    """`dagster/column_schema` and `dagster/column_lineage` of one built model."""
    manifest = relations.manifest
    node = manifest["nodes"][unique_id]
    columns = relations(unique_id)
    metadata: dict[str, Any] = {
        COLUMN_SCHEMA: dg.TableSchema(
            columns=[
                dg.TableColumn(name, data_type, description=_description(node, name))
                for name, data_type in columns.items()
            ]
        )
    }
    parents = {}
    for parent_id in node["depends_on"]["nodes"]:
        parent = manifest["sources"].get(parent_id) or manifest["nodes"][parent_id]
        parents[parent["relation_name"]] = _typed(relations(parent_id))
    history = EventHistoryMetadata(columns=_typed(columns), parents=parents)
    metadata |= _build_column_lineage_metadata(
        history, node, manifest, TieredTranslator(), target_path, dbt_project
    )
    return metadata


def _description(node: Mapping[str, Any], column: str) -> str | None:
    return (node["columns"].get(column) or {}).get("description") or None
