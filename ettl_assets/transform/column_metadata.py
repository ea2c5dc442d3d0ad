"""Column schema and column-level lineage of each dbt model, for its materialization.

dagster-dbt's `fetch_column_metadata()` asks the warehouse for the column types, which on the
embedded Spark opens a second JVM on the same metastore (trap 14). The types are already known
without Spark: a model's from its Parquet files, a bronze source's from the registry. With them,
dagster-dbt's own lineage builder (sqlglot over the compiled SQL) gives `dagster/column_lineage`.
"""

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.dataset as ds
from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata, _build_column_lineage_metadata

from ettl_assets import settings
from ettl_assets.sources.registry import SourceSpec, load_registry
from ettl_assets.sources.table_columns import bronze_columns, spark_type
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.translator import TieredTranslator


def model_columns(node: Mapping[str, Any]) -> dict[str, str]:
    """A model's columns and types, from the Parquet files of its table."""
    path = settings.warehouse_dir() / f"{node['schema']}.db" / node["alias"]
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


def relation_columns(manifest: Mapping[str, Any], unique_id: str) -> dict[str, str]:
    if unique_id in manifest["sources"]:
        return source_columns(manifest["sources"][unique_id])
    return model_columns(manifest["nodes"][unique_id])


def _typed(columns: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"data_type": data_type} for name, data_type in columns.items()}


def column_metadata(
    manifest: Mapping[str, Any], unique_id: str, target_path: Path | None
) -> dict[str, Any]:
    """`dagster/column_schema` and `dagster/column_lineage` of one built model."""
    node = manifest["nodes"][unique_id]
    columns = model_columns(node)
    metadata: dict[str, Any] = {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name, data_type, description=_description(node, name))
                for name, data_type in columns.items()
            ]
        )
    }
    parents = {}
    for parent_id in node["depends_on"]["nodes"]:
        parent = manifest["sources"].get(parent_id) or manifest["nodes"][parent_id]
        parents[parent["relation_name"]] = _typed(relation_columns(manifest, parent_id))
    history = EventHistoryMetadata(columns=_typed(columns), parents=parents)
    metadata |= _build_column_lineage_metadata(
        history, node, manifest, TieredTranslator(), target_path, dbt_project
    )
    return metadata


def _description(node: Mapping[str, Any], column: str) -> str | None:
    return (node["columns"].get(column) or {}).get("description") or None
