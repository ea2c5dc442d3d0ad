"""The layout of a bronze table: the registry's stored columns, the audit columns every row
carries, the partition column of a daily source, with the Spark types
register_bronze_tables.sql declares them with."""

import pyarrow as pa

from ettl_assets.bronze.registry import SourceSpec

PARTITION_COLUMN = "partition_date"
AUDIT_FIELDS = (
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
    pa.field("_source_file", pa.string()),
    pa.field("_run_id", pa.string()),
)

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
    columns = {"raw_text": "string", "reason": "string", "line_number": "bigint"}
    columns |= {f.name: spark_type(f.type) for f in AUDIT_FIELDS}
    return columns | ({PARTITION_COLUMN: "date"} if spec.is_daily else {})
