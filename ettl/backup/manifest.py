"""The manifest of a backup (`manifest.json` at its root): what it holds and how to check it.

One JSON document: when and by which project version the backup was taken, and per table its
definition (enough to declare it to Spark again: columns and types, partition columns, location
relative to the warehouse) and its files with their size, rows and sha256. It is written last,
so a backup without a manifest is an incomplete one, and restore refuses it.
"""

import json
from dataclasses import dataclass
from typing import Any

from ettl.backup.manifest_checks import TIERS, ManifestFieldError, check_document

FORMAT = 1  # bumped when a field changes meaning; restore refuses formats it does not know
MANIFEST_NAME = "manifest.json"
# A backup keeps each file under <backup>/warehouse/<its path relative to the warehouse>.
FILES_DIR = "warehouse"


class ManifestError(ValueError):
    """The manifest cannot be read; the message says why in one line."""


@dataclass(frozen=True)
class BackedUpFile:
    path: str  # relative to the warehouse, "/"-separated: "gold.db/dim_carriers/part-0.parquet"
    bytes: int
    rows: int  # from the Parquet footer
    sha256: str

    @property
    def location(self) -> str:
        """Where the file is kept inside the backup."""
        return f"{FILES_DIR}/{self.path}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL type, as in a CREATE TABLE: bigint, decimal(10,2), array<string>...


@dataclass(frozen=True)
class TableDefinition:
    name: str  # the Spark table: flights, flights__quarantine, fct_daily_route_delays
    tier: str
    schema: str  # the Spark database the table is in
    columns: tuple[Column, ...]  # partition columns included, last (as Spark lists them)
    partition_columns: tuple[str, ...]
    location: str  # relative to the warehouse: "bronze.db/flights"
    files: tuple[BackedUpFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, UTC
    project_version: str
    data_dir: str  # where it was taken from (for the reader; restore goes to ETTL_DATA_DIR)
    tables: tuple[TableDefinition, ...]

    def files(self) -> list[BackedUpFile]:
        return [file for table in self.tables for file in table.files]

    def of_tier(self, tier: str) -> list[TableDefinition]:
        return [table for table in self.tables if table.tier == tier]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "created_at": self.created_at,
                "project_version": self.project_version,
                "data_dir": self.data_dir,
                "tables": [_table_json(table) for table in self.tables],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """The manifest in `text`, every field checked (manifest_checks.py): ManifestError
        naming the first bad field otherwise."""
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as exc:  # also integers too long to convert
            raise ManifestError(f"{MANIFEST_NAME} is not valid JSON ({exc})") from exc
        try:
            check_document(document, FORMAT)
        except ManifestFieldError as exc:
            raise ManifestError(f"{MANIFEST_NAME}: {exc}") from exc
        return cls(
            created_at=document["created_at"],
            project_version=document["project_version"],
            data_dir=document["data_dir"],
            tables=tuple(_table_from_json(table) for table in document["tables"]),
        )


def _table_json(table: TableDefinition) -> dict[str, Any]:
    return {
        "name": table.name,
        "tier": table.tier,
        "schema": table.schema,
        "columns": [{"name": c.name, "type": c.type} for c in table.columns],
        "partition_columns": list(table.partition_columns),
        "location": table.location,
        "rows": table.rows,
        "bytes": table.bytes,
        "files": [
            {"path": f.path, "bytes": f.bytes, "rows": f.rows, "sha256": f.sha256}
            for f in table.files
        ],
    }


def _table_from_json(table: dict[str, Any]) -> TableDefinition:
    return TableDefinition(
        name=table["name"],
        tier=table["tier"],
        schema=table["schema"],
        columns=tuple(Column(c["name"], c["type"]) for c in table["columns"]),
        partition_columns=tuple(table["partition_columns"]),
        location=table["location"],
        files=tuple(
            BackedUpFile(f["path"], f["bytes"], f["rows"], f["sha256"]) for f in table["files"]
        ),
    )


def summary_lines(manifest: Manifest) -> list[str]:
    """Tables, files, rows and bytes per tier and in all, as a small table."""
    lines = [f"  {'tier':<7} {'tables':>6} {'files':>6} {'rows':>12} {'bytes':>14}"]
    for tier in (*TIERS, "total"):
        tables = manifest.tables if tier == "total" else manifest.of_tier(tier)
        files = sum(len(t.files) for t in tables)
        rows, size = sum(t.rows for t in tables), sum(t.bytes for t in tables)
        lines.append(f"  {tier:<7} {len(tables):>6} {files:>6} {rows:>12,} {size:>14,}")
    return lines
