"""The bronze asset factory: one Dagster asset per registry entry.

A bronze asset copies what a source delivered into Parquet under warehouse/bronze.db/<source>/,
adding audit columns. Layout (read by dbt through dbt_project/macros/register_bronze_tables.sql):

    bronze.db/<source>/partition_date=YYYY-MM-DD/part-0.parquet   daily sources
    bronze.db/<source>/part-0.parquet                              snapshots

Each file is written to a hidden temp file and renamed over the old one, so readers see the old
partition or the new one, never half of one (Spark skips files whose name starts with "."). A
file whose landing input and code version (code + contract) are unchanged is not rewritten:
re-ingesting the same delivery is a no-op, so bronze stays immutable and reruns change nothing.
"""

import functools
import hashlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from ettl_assets import settings
from ettl_assets.metadata import DURATION, rows_metadata
from ettl_assets.partitions import daily_partitions
from ettl_assets.sources import readers
from ettl_assets.sources.readers import read_landing_file
from ettl_assets.sources.registry import SourceSpec

BRONZE_GROUP = "bronze"
PARTITION_COLUMN = "partition_date"
DATA_FILE_NAME = "part-0.parquet"
FINGERPRINT_KEY = b"ettl.fingerprint"


def bronze_key(spec: SourceSpec) -> dg.AssetKey:
    """Also the key dagster-dbt gives source('bronze', <name>): one lineage, landing to gold."""
    return dg.AssetKey([BRONZE_GROUP, spec.name])


def bronze_file(spec: SourceSpec, day: str | None = None) -> Path:
    table_dir = settings.bronze_dir() / spec.name
    if spec.is_daily:
        return table_dir / f"{PARTITION_COLUMN}={day}" / DATA_FILE_NAME
    return table_dir / DATA_FILE_NAME


AUDIT_FIELDS = (
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
    pa.field("_source_file", pa.string()),
    pa.field("_run_id", pa.string()),
)


def add_audit_columns(
    table: pa.Table, source_file: Path, run_id: str, ingested_at: datetime
) -> pa.Table:
    values = (ingested_at, str(source_file), run_id)
    for field, value in zip(AUDIT_FIELDS, values, strict=True):
        # Explicit types: an empty delivery must still produce the full, typed schema.
        table = table.append_column(field, pa.array([value] * table.num_rows, field.type))
    return table


@functools.cache
def bronze_code_version(spec: SourceSpec) -> str:
    """Changes when the code that builds bronze or the source's contract changes.

    Dagster records it with each materialization, which is how `ettl plan` sees a bronze change.
    """
    digest = hashlib.sha256()
    for module in (readers, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    contract = [spec.format, [(c.name, c.data_type) for c in spec.columns]]
    digest.update(json.dumps(contract).encode())
    return digest.hexdigest()[:16]


def delivery_fingerprint(landing_file: Path, code_version: str) -> str:
    """Identifies what a bronze file was built from: the delivered bytes and the code version."""
    digest = hashlib.sha256(code_version.encode())
    with landing_file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_fingerprint(bronze_path: Path) -> str | None:
    if not bronze_path.exists():
        return None
    metadata = pq.read_schema(bronze_path).metadata or {}
    value = metadata.get(FINGERPRINT_KEY)
    return value.decode() if value else None


def write_atomically(table: pa.Table, target: Path, fingerprint: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = dict(table.schema.metadata or {})
    metadata[FINGERPRINT_KEY] = fingerprint.encode()
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table.replace_schema_metadata(metadata), temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Ingested:
    """What one landing file became in bronze."""

    landing_file: Path
    bronze_file: Path
    rows: int
    bytes_read: int
    rewritten: bool


def ingest(spec: SourceSpec, day: str | None, run_id: str) -> Ingested:
    landing_file = spec.landing_path(settings.landing_dir(), day)
    target = bronze_file(spec, day)
    fingerprint = None
    if landing_file.is_file():
        fingerprint = delivery_fingerprint(landing_file, bronze_code_version(spec))
    if fingerprint is not None and fingerprint == stored_fingerprint(target):
        rows = pq.read_metadata(target).num_rows
        return Ingested(landing_file, target, rows, landing_file.stat().st_size, rewritten=False)
    table = read_landing_file(landing_file, spec)  # raises a clear error if it is missing
    table = add_audit_columns(table, landing_file, run_id, datetime.now(UTC))
    write_atomically(table, target, fingerprint)
    return Ingested(landing_file, target, table.num_rows, landing_file.stat().st_size, True)


def _materialize_result(ingested: list[Ingested], seconds: float) -> dg.MaterializeResult:
    rows = sum(item.rows for item in ingested)
    metadata: dict[str, object] = {
        **rows_metadata(rows, single_partition=len(ingested) == 1),
        DURATION: dg.MetadataValue.float(round(seconds, 3)),
        "files_read": dg.MetadataValue.json([str(i.landing_file) for i in ingested]),
        "bytes_read": dg.MetadataValue.int(sum(i.bytes_read for i in ingested)),
        "files_rewritten": dg.MetadataValue.int(sum(i.rewritten for i in ingested)),
        "files_unchanged": dg.MetadataValue.int(sum(not i.rewritten for i in ingested)),
    }
    if len(ingested) == 1:
        metadata["path"] = dg.MetadataValue.path(str(ingested[0].bronze_file))
    return dg.MaterializeResult(metadata=metadata)


def bronze_asset_for(spec: SourceSpec) -> dg.AssetsDefinition:
    """Build the bronze asset of one registry entry."""

    @dg.asset(
        key=bronze_key(spec),
        group_name=BRONZE_GROUP,
        description=spec.description,
        owners=list(spec.owners),
        kinds={"python", "parquet"},
        code_version=bronze_code_version(spec),
        partitions_def=daily_partitions if spec.is_daily else None,
        # A date range is ingested in one run (and `dagster asset materialize
        # --partition-range` requires it of every selected asset).
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={
            "landing_pattern": spec.landing,
            "format": spec.format,
            "cadence": spec.cadence,
            "declared_in": str(spec.declared_in.relative_to(settings.PROJECT_ROOT)),
        },
    )
    def _bronze_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        began = time.monotonic()
        days: list[str | None] = list(context.partition_keys) if spec.is_daily else [None]
        ingested = []
        for position, day in enumerate(days, start=1):
            item = ingest(spec, day, context.run_id)
            ingested.append(item)
            context.log.info(
                f"[{position}/{len(days)}] {spec.name} {day or 'snapshot'}: {item.rows} rows "
                f"{'written' if item.rewritten else 'unchanged'} ({item.landing_file.name})"
            )
        return _materialize_result(ingested, time.monotonic() - began)

    return _bronze_asset
