"""`ettl backup`: bronze and gold, files plus table definitions, to a backup location.

It reads warehouse/bronze.db/<registry tables> and warehouse/gold.db/ and nothing else: not the
secrets, the Dagster instance, the landing files, silver (rebuilt from bronze), the audit table
or the Spark metastore (restore declares the tables again).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem

from ettl.backup.manifest import (
    FILES_DIR,
    MANIFEST_NAME,
    BackedUpFile,
    Manifest,
    TableDefinition,
)
from ettl.backup.store import (
    ByteCount,
    copy_hashing,
    make_private_dirs,
    metastore_to_itself,
    open_location,
    open_private,
)
from ettl.backup.tables import TableFiles, read_definition, tables_to_back_up
from ettl.progress import progress
from ettl_assets import settings
from ettl_assets.bronze.registry import load_registry

PROJECT_DISTRIBUTION = "ettl-assets"


class BackupError(Exception):
    """A backup that cannot be taken; the message says why in one line."""


@dataclass(frozen=True)
class BackupResult:
    url: str
    manifest: Manifest
    skipped: list[str]  # table folders left out, and why


def default_location(now: datetime) -> str:
    return str(settings.backups_dir() / now.strftime("%Y%m%dT%H%M%SZ"))


def take_backup(url: str | None, out: Callable[[str], None] = print) -> BackupResult:
    """Copy bronze and gold to `url` (default: <data dir>/backups/<UTC time>/), manifest last."""
    now = datetime.now(UTC)
    url = url or default_location(now)
    fs, root = open_location(url)
    if fs.exists(f"{root}/{MANIFEST_NAME}"):
        raise BackupError(f"{url} already holds a backup ({MANIFEST_NAME}); back up to a new "
                          "location")  # fmt: skip
    warehouse = settings.warehouse_dir()
    make_private_dirs(fs, root)  # before any file: the backup's own folder is owner-only too
    # On the embedded Spark, hold the metastore lock: no dbt step rewrites gold while it is
    # copied (bronze files are replaced whole, by atomic renames, so each copy is a whole file).
    with metastore_to_itself(out):
        tables, skipped = tables_to_back_up(warehouse, load_registry())
        files = [path for table in tables for path in table.files]
        out(f"backing up {len(tables)} tables ({len(files)} files) of {warehouse} to {url}")
        with progress("  copied", len(files), write=out) as advance:
            copied = ByteCount(advance, sum(p.stat().st_size for p in files))
            definitions = [_copy_table(fs, root, warehouse, table, copied) for table in tables]
    manifest = Manifest(
        created_at=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        project_version=version(PROJECT_DISTRIBUTION),
        data_dir=str(settings.data_dir()),
        tables=tuple(definitions),
    )
    # Last: a backup interrupted before this line has no manifest, and restore refuses it.
    with open_private(fs, f"{root}/{MANIFEST_NAME}") as handle:
        handle.write(manifest.to_json().encode())
    return BackupResult(url, manifest, skipped)


def _copy_table(
    fs: AbstractFileSystem, root: str, warehouse: Path, table: TableFiles, copied: ByteCount
) -> TableDefinition:
    entries, footers = [], []
    for path in table.files:
        relative = path.relative_to(warehouse).as_posix()
        target = f"{root}/{FILES_DIR}/{relative}"
        make_private_dirs(fs, target.rsplit("/", 1)[0])
        # One open file for footer and copy: both see the same bytes even if a bronze asset
        # replaces the file meanwhile (the rename leaves this handle on the old file).
        with path.open("rb") as source:
            try:
                footer = pq.read_metadata(source)
            except pa.ArrowException as exc:
                raise BackupError(f"{path} is not a readable Parquet file ({exc})") from exc
            source.seek(0)
            with open_private(fs, target) as copy:
                size, digest = copy_hashing(source, copy)
        entries.append(BackedUpFile(relative, size, footer.num_rows, digest))
        footers.append((path.relative_to(table.directory).as_posix(), footer))
        copied.advance(size)
    columns, partition_columns = read_definition(table, footers)
    location = table.directory.relative_to(warehouse)
    return TableDefinition(
        name=table.name,
        tier=table.tier,
        schema=location.parent.name.removesuffix(".db"),
        columns=columns,
        partition_columns=partition_columns,
        location=location.as_posix(),
        files=tuple(entries),
    )
