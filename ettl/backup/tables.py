"""Which tables a backup holds, and their definitions, read from the warehouse's own files.

- bronze: every table of the source registry and its `<source>__quarantine` table, declared
  with the columns register_bronze_tables.sql gives them (sources/table_columns.py);
- gold: every table folder under gold.db/: columns and types from the Spark schema Spark keeps
  in each Parquet file's footer, partition columns from the `column=value` folder names.

No Spark is started: the catalog is not backed up (restore declares the tables again) and it
may not even match the files (a moved data dir keeps the old absolute paths in the metastore);
the files are what a restore brings back, so the definitions are read from them.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ettl.backup.manifest import Column
from ettl_assets.bronze.registry import QUARANTINE_SUFFIX, SourceSpec
from ettl_assets.bronze.table_columns import (
    PARTITION_COLUMN,
    bronze_columns,
    quarantine_columns,
    spark_type,
)
from ettl_assets.settings import table_location

SPARK_SCHEMA_KEY = b"org.apache.spark.sql.parquet.row.metadata"  # set by Spark's Parquet writer
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # the folder name Spark gives a NULL partition value
# Spark's JSON names of the types whose SQL name differs.
SQL_TYPE_NAME = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WHOLE_NUMBER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class TableFiles:
    """A table to back up: its folder, its data files, and its columns when the registry
    declares them (bronze); gold's are read from the files' footers while they are copied."""

    name: str
    tier: str
    directory: Path
    files: tuple[Path, ...]
    declared: tuple[tuple[Column, ...], tuple[str, ...]] | None = None


def data_files(directory: Path) -> list[Path]:
    """The files Spark reads as the table's data. Names starting with "." or "_" are skipped,
    as Spark skips them: temp files of atomic writes, Hadoop .crc checksums, _SUCCESS markers,
    _temporary folders of unfinished writes."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if path.is_file() and not any(part.startswith((".", "_")) for part in parts):
            found.append(path)
    return found


def _declared(columns: dict[str, str], daily: bool) -> tuple[tuple[Column, ...], tuple[str, ...]]:
    return tuple(Column(n, t) for n, t in columns.items()), (PARTITION_COLUMN,) if daily else ()


def tables_to_back_up(
    warehouse: Path, specs: tuple[SourceSpec, ...]
) -> tuple[list[TableFiles], list[str]]:
    """Every bronze table of the registry (with its quarantine table) and every gold table
    folder, plus a note for each folder that is left out and why."""
    tables, skipped = [], []
    bronze = warehouse / table_location("bronze")
    for spec in specs:
        for name, columns in (
            (spec.name, bronze_columns(spec)),
            (spec.name + QUARANTINE_SUFFIX, quarantine_columns(spec)),
        ):
            directory = bronze / name
            declared = _declared(columns, spec.is_daily)
            tables.append(TableFiles(name, "bronze", directory, tuple(data_files(directory)),
                                     declared))  # fmt: skip
    known = {t.name for t in tables}
    for folder in _table_folders(bronze):
        if folder.name not in known:
            skipped.append(f"{table_location('bronze', folder.name)}: not a table of the "
                           "source registry")  # fmt: skip
    for folder in _table_folders(warehouse / table_location("gold")):
        files = data_files(folder)
        if not files:  # a table dbt created but never filled: the next dbt run creates it again
            skipped.append(f"{table_location('gold', folder.name)}: no data files to read its "
                           "columns from")  # fmt: skip
            continue
        tables.append(TableFiles(folder.name, "gold", folder, tuple(files)))
    return tables, skipped


def _table_folders(database: Path) -> list[Path]:
    if not database.is_dir():
        return []
    return [
        p for p in sorted(database.iterdir()) if p.is_dir() and not p.name.startswith((".", "_"))
    ]


def read_definition(
    table: TableFiles, footers: list[tuple[str, pq.FileMetaData]]
) -> tuple[tuple[Column, ...], tuple[str, ...]]:
    """(columns, partition columns) of a table; `footers` are (path relative to the table
    folder, Parquet footer) of its files."""
    if table.declared is not None:
        return table.declared
    partitions = _partition_values(path for path, _ in footers)
    # dbt may have appended columns since the first files were written (on_schema_change:
    # append_new_columns); the newest files carry the table's full schema: the widest one.
    widest = max((_data_columns(footer) for _, footer in footers), key=len)
    columns = widest + tuple(Column(name, _partition_type(values)) for name, values in partitions)
    return columns, tuple(name for name, _ in partitions)


def _data_columns(footer: pq.FileMetaData) -> tuple[Column, ...]:
    spark_schema = (footer.metadata or {}).get(SPARK_SCHEMA_KEY)
    if spark_schema is not None:
        fields = json.loads(spark_schema)["fields"]
        return tuple(Column(f["name"], spark_sql_type(f["type"])) for f in fields)
    # Not written by Spark: map the Arrow types as the rest of the project does.
    return tuple(Column(f.name, spark_type(f.type)) for f in footer.schema.to_arrow_schema())


def spark_sql_type(json_type: str | dict[str, Any]) -> str:
    """A type of Spark's JSON schema as SQL DDL: "long" -> bigint, {"type": "array", ...} ->
    array<...>."""
    if isinstance(json_type, str):
        return SQL_TYPE_NAME.get(json_type, json_type)
    kind = json_type["type"]
    if kind == "array":
        return f"array<{spark_sql_type(json_type['elementType'])}>"
    if kind == "map":
        key, value = spark_sql_type(json_type["keyType"]), spark_sql_type(json_type["valueType"])
        return f"map<{key},{value}>"
    if kind == "struct":
        fields = ",".join(f"`{f['name']}`:{spark_sql_type(f['type'])}" for f in json_type["fields"])
        return f"struct<{fields}>"
    raise ValueError(f"unknown Spark type {json_type!r}")


def _partition_values(paths) -> list[tuple[str, list[str]]]:
    """(name, values) of the partition columns, in folder order, from `name=value` folders."""
    columns: dict[str, list[str]] = {}
    for path in paths:
        for folder in Path(path).parts[:-1]:
            name, equals, value = folder.partition("=")
            if equals:
                columns.setdefault(name, []).append(value)
    return list(columns.items())


def _partition_type(values: list[str]) -> str:
    """A partition column's type from its values, as Spark's partition discovery infers it:
    only the catalog (not backed up) records it. Every partition column here is a date."""
    known = [v for v in values if v != HIVE_NULL]
    if known and all(ISO_DATE.fullmatch(v) for v in known):
        return "date"
    if known and all(WHOLE_NUMBER.fullmatch(v) for v in known):
        return "int" if all(-(2**31) <= int(v) < 2**31 for v in known) else "bigint"
    return "string"
