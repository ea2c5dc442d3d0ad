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
from ettl_assets.bronze import drift, readers
from ettl_assets.bronze.delivery_report import check_specs, column_schema, delivery_report
from ettl_assets.bronze.landing_zone import LandingZone
from ettl_assets.bronze.readers import Delivery, LandingFileError, RejectedRow, read_delivery
from ettl_assets.bronze.registry import QUARANTINE_SUFFIX, SourceSpec
from ettl_assets.bronze.table_columns import (
    AUDIT_FIELDS,
    PARTITION_COLUMN,
    QUARANTINE_FIELDS,
    bronze_columns,
)
from ettl_assets.catalog import SENSITIVITY_TAG, SOURCE_SYSTEMS, TIER_TAG, freshness_policy
from ettl_assets.execution import BRONZE_OP_TAGS
from ettl_assets.metadata import COLUMN_SCHEMA, TABLE_NAME
from ettl_assets.partitions import daily_partitions
from ettl_assets.private_files import private_dir, private_file
from ettl_assets.resources import Warehouse

BRONZE_GROUP = "bronze"
LANDING_PATTERN = "landing_pattern"  # definition metadata: where the source's files land
DATA_FILE_NAME = "part-0.parquet"
# Kept in each bronze file's Parquet metadata, so reruns and `ettl drift` need not re-read input.
FINGERPRINT_KEY = b"ettl.fingerprint"
DELIVERED_SCHEMA_KEY = b"ettl.delivered_schema"
QUARANTINED_KEY = b"ettl.rows_quarantined"
# Per-partition metadata of a delivered day (read by ettl_assets/reconciliation/window.py).
DAY_ROWS_DELIVERED = "day_rows_delivered"
DAY_ROWS_QUARANTINED = "day_rows_quarantined"
# Per-partition metadata of a day the source delivered no file for, and how it is reported.
DELIVERED = "delivered"
NO_DELIVERY_LINE = "no delivery:"


def bronze_key(spec: SourceSpec) -> dg.AssetKey:
    """Also the key dagster-dbt gives source('bronze', <name>): one lineage, landing to gold."""
    return dg.AssetKey([BRONZE_GROUP, spec.name])


def _partition_dir(
    table_name: str, spec: SourceSpec, day: str | None, bronze_dir: Path | None = None
) -> Path:
    """A table's folder, or a daily source's partition folder in it when `day` is given; in
    `bronze_dir` (a Warehouse resource's), by default the configured one."""
    if spec.is_daily and day:
        return daily_partition_dir(table_name, day, bronze_dir)
    return (bronze_dir or settings.bronze_dir()) / table_name


def daily_partition_dir(table_name: str, day: str, bronze_dir: Path | None = None) -> Path:
    """The one layout of a day in a daily bronze table (Hive-style, as Spark reads it)."""
    return (bronze_dir or settings.bronze_dir()) / table_name / f"{PARTITION_COLUMN}={day}"


def bronze_file(spec: SourceSpec, day: str | None = None, bronze_dir: Path | None = None) -> Path:
    return _partition_dir(spec.name, spec, day, bronze_dir) / DATA_FILE_NAME


def quarantine_dir(
    spec: SourceSpec, day: str | None = None, bronze_dir: Path | None = None
) -> Path:
    """One Parquet file per run that quarantined rows: appended, never replaced
    (docs/design-decisions.md#d8)."""
    return _partition_dir(spec.name + QUARANTINE_SUFFIX, spec, day, bronze_dir)


def add_audit_columns(
    table: pa.Table, source_file: str | Path, run_id: str, ingested_at: datetime
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
    contract = [spec.format, [(c.name, c.data_type) for c in spec.columns], spec.aliases,
                spec.optional]  # fmt: skip
    # The columns every bronze table adds (dbt_project.yml's bronze_layout, not in this code).
    contract.append([PARTITION_COLUMN, [(f.name, str(f.type)) for f in AUDIT_FIELDS]])
    contract.append([(f.name, str(f.type)) for f in QUARANTINE_FIELDS])
    digest.update(json.dumps(contract).encode())
    return digest.hexdigest()[:16]


def delivery_fingerprint(delivered: bytes, code_version: str) -> str:
    """Identifies what a bronze file was built from: the delivered bytes and the code version."""
    return hashlib.sha256(code_version.encode() + delivered).hexdigest()


@dataclass(frozen=True)
class StoredPartition:
    """What a bronze file's footer says about it (one read, no data pages)."""

    rows: int
    metadata: dict[bytes, bytes]

    @classmethod
    def read(cls, bronze_path: Path) -> "StoredPartition | None":
        if not bronze_path.exists():
            return None
        footer = pq.read_metadata(bronze_path)
        return cls(footer.num_rows, dict(footer.metadata or {}))

    @property
    def fingerprint(self) -> str | None:
        value = self.metadata.get(FINGERPRINT_KEY)
        return value.decode() if value else None

    @property
    def delivered_schema(self) -> drift.DeliveredSchema:
        value = self.metadata.get(DELIVERED_SCHEMA_KEY)
        return [tuple(pair) for pair in json.loads(value)] if value else []

    @property
    def rows_quarantined(self) -> int:
        return int(self.metadata.get(QUARANTINED_KEY, b"0"))


def stored_delivered_schema(bronze_path: Path) -> drift.DeliveredSchema:
    stored = StoredPartition.read(bronze_path)
    return stored.delivered_schema if stored else []


def delivered_schemas(spec: SourceSpec) -> list[tuple[str, drift.DeliveredSchema]]:
    """(partition day or "snapshot", delivered schema) of every bronze file, in date order."""
    table_dir = settings.bronze_dir() / spec.name
    if not spec.is_daily:
        path = table_dir / DATA_FILE_NAME
        return [("snapshot", stored_delivered_schema(path))] if path.exists() else []
    files = sorted(table_dir.glob(f"{PARTITION_COLUMN}=*/{DATA_FILE_NAME}"))
    return [(f.parent.name.split("=", 1)[1], stored_delivered_schema(f)) for f in files]


def write_atomically(table: pa.Table, target: Path, metadata: dict[bytes, bytes]) -> None:
    """Owner-only (docs/security.md): bronze and quarantine hold personal data in clear."""
    metadata = {**(table.schema.metadata or {}), **metadata}
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with private_file(temp) as handle:
            pq.write_table(table.replace_schema_metadata(metadata), handle)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def quarantine_table(
    rejected: list[RejectedRow], source_file: str | Path, run_id: str, at: datetime
) -> pa.Table:
    """The quarantine columns of dbt_project.yml's `bronze_layout`, each a RejectedRow field of
    the same name, then the audit columns."""
    columns = {f.name: [getattr(r, f.name) for r in rejected] for f in QUARANTINE_FIELDS}
    table = pa.table({f.name: pa.array(columns[f.name], f.type) for f in QUARANTINE_FIELDS})
    return add_audit_columns(table, source_file, run_id, at)


@dataclass(frozen=True)
class Ingested:
    """What one landing file became in bronze."""

    day: str | None
    landing_file: str  # its local path, or its URL on another filesystem
    bronze_file: Path
    rows: int  # landed in bronze
    rows_quarantined: int
    bytes_read: int
    rewritten: bool
    delivered_schema: drift.DeliveredSchema
    delivered: bool = True  # False: no file for the day, nothing read, bronze left as it was

    @property
    def rows_in(self) -> int:
        return self.rows + self.rows_quarantined


def ingest(
    spec: SourceSpec,
    day: str | None,
    run_id: str,
    zone: LandingZone | None = None,
    bronze_dir: Path | None = None,
) -> Ingested:
    """Land one delivery: good rows replace the partition, bad rows append to quarantine.

    A daily source with no file for the day delivered nothing: the day is reported as such and
    its bronze partition (if an earlier delivery made one) is left alone. A missing snapshot is
    an error: every run needs the reference data.
    """
    zone = zone or LandingZone.configured()
    relative = spec.landing_file(day)
    landing_file = zone.name(relative)
    target = bronze_file(spec, day, bronze_dir)
    delivered = zone.read(relative)
    if delivered is None:
        if not spec.is_daily:
            raise LandingFileError(
                f"{landing_file}: landing file for source {spec.name!r} does not exist "
                "(expected at this path)"
            )
        stored = StoredPartition.read(target)
        return Ingested(
            day, landing_file, target, 0, 0, 0, rewritten=False,
            delivered_schema=stored.delivered_schema if stored else [], delivered=False,
        )  # fmt: skip
    fingerprint = delivery_fingerprint(delivered, bronze_code_version(spec))
    stored = StoredPartition.read(target)
    if stored is not None and fingerprint == stored.fingerprint:
        return Ingested(
            day, landing_file, target, stored.rows, stored.rows_quarantined,
            len(delivered), rewritten=False, delivered_schema=stored.delivered_schema,
        )  # fmt: skip
    delivery: Delivery = read_delivery(delivered, landing_file, spec)  # clear error if unreadable
    ingested_at = datetime.now(UTC)
    # The quarantine table exists (empty) from the first delivery on, for Spark to register.
    private_dir(quarantine_dir(spec, bronze_dir=bronze_dir))
    if delivery.rejected:
        # Before the partition: a failure in between leaves rows quarantined twice, never lost.
        rejected = quarantine_table(delivery.rejected, landing_file, run_id, ingested_at)
        quarantine = quarantine_dir(spec, day, bronze_dir)
        write_atomically(rejected, quarantine / f"run-{run_id}.parquet", {})
    table = add_audit_columns(delivery.table, landing_file, run_id, ingested_at)
    metadata = {
        FINGERPRINT_KEY: fingerprint.encode(),
        DELIVERED_SCHEMA_KEY: json.dumps(delivery.delivered_schema).encode(),
        QUARANTINED_KEY: str(len(delivery.rejected)).encode(),
    }
    write_atomically(table, target, metadata)
    return Ingested(
        day, landing_file, target, table.num_rows, len(delivery.rejected),
        len(delivered), rewritten=True, delivered_schema=delivery.delivered_schema,
    )  # fmt: skip


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
        check_specs=check_specs(bronze_key(spec)),
        tags={TIER_TAG: BRONZE_GROUP, SENSITIVITY_TAG: spec.sensitivity},
        op_tags=BRONZE_OP_TAGS,  # its pod's size on Kubernetes (ettl_assets/execution.py)
        freshness_policy=freshness_policy(BRONZE_GROUP, daily=spec.is_daily),
        metadata={
            SOURCE_SYSTEMS: [spec.system],
            LANDING_PATTERN: spec.landing,
            "format": spec.format,
            "cadence": spec.cadence,
            "declared_in": str(spec.declared_in.relative_to(settings.PROJECT_ROOT)),
            # The table it writes, as Spark sees it (contract, audit and partition columns); a
            # materialization records the columns the delivery came with instead.
            TABLE_NAME: ".".join(bronze_key(spec).path),
            COLUMN_SCHEMA: column_schema(list(bronze_columns(spec).items())),
        },
    )
    def _bronze_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        days: list[str | None] = list(context.partition_keys) if spec.is_daily else [None]
        return ingest_partitions(context, spec, days, warehouse)

    return _bronze_asset


def ingest_partitions(
    context: dg.AssetExecutionContext,
    spec: SourceSpec,
    days: list[str | None],
    warehouse: Warehouse | None = None,
) -> dg.MaterializeResult:
    """Ingest the delivery of each day (None: the snapshot); fail naming each unreadable file.
    From and into the warehouse resource's folders, by default the configured ones."""
    began = time.monotonic()
    ingested, failures = [], []
    warehouse = warehouse or Warehouse.configured()
    zone = LandingZone.at(warehouse.landing_root)
    for position, day in enumerate(days, start=1):
        try:
            item = ingest(spec, day, context.run.run_id, zone, warehouse.bronze_dir())
        except LandingFileError as exc:
            # The other days still land; the run fails below, naming every bad file.
            context.log.error(f"[{position}/{len(days)}] {spec.name} {day}: {exc}")
            failures.append(str(exc))
            continue
        ingested.append(item)
        if not item.delivered:
            # Not a failure: the other days and sources go on. The partition is recorded as
            # materialized with no delivery (metadata below), so a late file is news to the
            # sensor, and downstream sees what arrived: no rows of this source for the day.
            context.log.warning(
                f"[{position}/{len(days)}] {NO_DELIVERY_LINE} {spec.name} {day} "
                f"(nothing at {item.landing_file})"
            )
            context.add_asset_metadata({DELIVERED: False}, partition_key=day)
            continue
        if day is not None:  # each day's own counts, for the reconciliation ledger
            context.add_asset_metadata(
                {DAY_ROWS_DELIVERED: item.rows_in, DAY_ROWS_QUARANTINED: item.rows_quarantined},
                partition_key=day,
            )
        context.log.info(
            f"[{position}/{len(days)}] {spec.name} {day or 'snapshot'}: {item.rows} rows "
            f"{'written' if item.rewritten else 'unchanged'}, {item.rows_quarantined} "
            f"quarantined ({item.landing_file.rsplit('/', 1)[-1]})"
        )
    if failures:
        raise dg.Failure(
            description=f"{len(failures)} delivery(ies) of {spec.name} could not be read: "
            + "; ".join(failures),
            metadata={"failed_files": dg.MetadataValue.json(failures),
                      "partitions_landed": len(ingested)},
        )  # fmt: skip
    return delivery_report(spec, ingested, time.monotonic() - began)
