"""The layout of a bronze table: the registry's stored columns, the audit columns every row
carries, the partition column of a daily source, with the Spark types
register_bronze_tables.sql declares them with.

The audit, quarantine and partition columns are declared once, as dbt_project.yml's
`bronze_layout` var: that macro reads it with var(), this module reads the same file, so the
Parquet written here and the tables Spark declares cannot disagree.
"""

from typing import Any

import pyarrow as pa
import yaml

from ettl_assets.bronze.registry import ARROW_TYPES, SourceSpec
from ettl_assets.settings import DBT_PROJECT_DIR

LAYOUT_VAR = "bronze_layout"


def _read_layout() -> dict[str, Any]:
    path = DBT_PROJECT_DIR / "dbt_project.yml"
    layout = ((yaml.safe_load(path.read_text()) or {}).get("vars") or {}).get(LAYOUT_VAR)
    if not isinstance(layout, dict):
        raise ValueError(f"{path}: needs the `vars: {LAYOUT_VAR}:` block")
    return layout


def _fields(layout: dict[str, Any], key: str) -> tuple[pa.Field, ...]:
    return tuple(pa.field(c["name"], ARROW_TYPES[c["data_type"]]) for c in layout[key])


_LAYOUT = _read_layout()
PARTITION_COLUMN: str = _LAYOUT["partition_column"]
AUDIT_FIELDS = _fields(_LAYOUT, "audit_columns")
# Before the audit columns in a `<source>__quarantine` table: the rejected row, why, where.
QUARANTINE_FIELDS = _fields(_LAYOUT, "quarantine_columns")

# Parquet (Arrow) type -> the Spark SQL type name dbt and sqlglot use.
SPARK_TYPE = {
    "string": "string", "large_string": "string", "int64": "bigint", "int32": "int",
    "double": "double", "float": "float", "bool": "boolean", "date32[day]": "date",
}  # fmt: skip


def spark_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return SPARK_TYPE.get(str(arrow_type), str(arrow_type))


def bronze_columns(spec: SourceSpec) -> dict[str, str]:
    columns = {c.name: c.data_type for c in spec.stored_columns}
    columns |= {f.name: spark_type(f.type) for f in AUDIT_FIELDS}
    return columns | ({PARTITION_COLUMN: "date"} if spec.is_daily else {})


def quarantine_columns(spec: SourceSpec) -> dict[str, str]:
    """The `<source>__quarantine` table (bronze.quarantine_table writes it, the dbt macro
    quarantine_columns() declares it): the rejected row, why, where, plus the audit columns."""
    columns = {f.name: spark_type(f.type) for f in QUARANTINE_FIELDS + AUDIT_FIELDS}
    return columns | ({PARTITION_COLUMN: "date"} if spec.is_daily else {})
