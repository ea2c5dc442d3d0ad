"""`ettl restore`: bronze and gold from a backup into an empty warehouse, tables declared again.

The order makes a bad backup change nothing:
1. read the manifest; refuse a warehouse that holds any file;
2. copy every file into a staging folder next to the warehouse, hashing it on the way: a missing
   or altered file stops the restore here, naming the file and both checksums; the staging
   folder is deleted and the warehouse was never written;
3. holding the embedded metastore: dbt creates the gold tables, empty (catalog.py says why
   before the files), the files move from staging into the warehouse (renames on one disk),
   then dbt registers bronze and recovers gold's partitions, and the embedded Spark's JVM ends
   before the lock is released. If this step fails, the files placed so far are removed again.
The Spark metastore is not in a backup: the tables are declared in whatever catalog the
deployment's dbt target has (embedded Derby, or a Thrift server's).
"""

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fsspec import AbstractFileSystem

from ettl.backup import catalog
from ettl.backup.manifest import MANIFEST_NAME, Manifest, ManifestError
from ettl.backup.store import ByteCount, copy_hashing, metastore_to_itself, open_location
from ettl.progress import progress
from ettl_assets import settings
from ettl_assets.bronze.registry import QUARANTINE_SUFFIX, load_registry
from ettl_assets.bronze.table_columns import PARTITION_COLUMN
from ettl_assets.private_files import private_dir, private_file


class RestoreError(Exception):
    """A restore that cannot be done or was stopped; the message says why in one line."""


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    bronze_days: tuple[str, str] | None  # first and last daily bronze partition restored
    notes: list[str] = field(default_factory=list)


def read_manifest(fs: AbstractFileSystem, root: str, url: str) -> Manifest:
    try:
        with fs.open(f"{root}/{MANIFEST_NAME}", "r") as handle:
            text = handle.read()
    except FileNotFoundError as exc:
        raise RestoreError(f"no {MANIFEST_NAME} at {url}: not a backup, or one that did not "
                           "finish (the manifest is written last)") from exc  # fmt: skip
    try:  # every field is checked: names and types go into Spark SQL, paths into folders
        return Manifest.from_json(text)
    except ManifestError as exc:
        raise RestoreError(f"{url}: {exc}") from exc


def refuse_non_empty(warehouse: Path) -> None:
    """Restore never mixes a backup with existing tables: any file in the warehouse stops it."""
    files = (p for p in warehouse.rglob("*") if p.is_file()) if warehouse.exists() else iter(())
    found = next(files, None)
    if found is not None:
        raise RestoreError(
            f"the warehouse {warehouse} is not empty (it holds {found.relative_to(warehouse)}, "
            "maybe more): restore only into an empty one (a new ETTL_DATA_DIR, or move the old "
            "data away first)"
        )


def restore(url: str, log: Path, out: Callable[[str], None] = print) -> RestoreResult:
    """Restore the backup at `url` into ETTL_DATA_DIR's warehouse; details go to `log`."""
    fs, root = open_location(url)
    manifest = read_manifest(fs, root, url)
    warehouse = settings.warehouse_dir()
    refuse_non_empty(warehouse)
    files = manifest.files()
    out(f"restoring the backup of {manifest.created_at} (ettl-assets "
        f"{manifest.project_version}) from {url} into {warehouse}")  # fmt: skip
    private_dir(log.parent)
    private_dir(settings.data_dir())
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.data_dir()))
    placed: list[Path] = []
    try:
        with progress("  checked", len(files), write=out) as advance:
            checked = ByteCount(advance, sum(f.bytes for f in files))
            problems = _fetch_verified(fs, root, manifest, staging, checked)
        if problems:
            with log.open("a") as handle:
                handle.writelines(f"{problem}\n" for problem in problems)
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RestoreError(f"nothing was restored: {problems[0]}{more}")
        gold = manifest.of_tier("gold")
        out(f"declaring {len(gold)} gold tables and registering bronze through dbt "
            f"(target {settings.dbt_target()})")  # fmt: skip
        with metastore_to_itself(out):
            try:
                catalog.create_tables(gold, log)
                for file in files:
                    target = warehouse / file.path
                    private_dir(target.parent)  # bronze holds personal data in clear
                    shutil.move(staging / file.path, target)  # a rename on the same disk
                    placed.append(target)
                for table in manifest.tables:  # also those without files: Spark needs the folder
                    private_dir(warehouse / table.location)
                catalog.recover_tables(gold, log)
            finally:
                catalog.stop_embedded_spark()
    except catalog.CatalogError as exc:
        _remove(placed)
        raise RestoreError(
            f"{exc}. Nothing was left in the warehouse; tables declared before the error may "
            "remain in the Spark catalog"
        ) from exc
    except BaseException:
        _remove(placed)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(manifest, _bronze_days(manifest), _unregistered_bronze(manifest))


def _fetch_verified(
    fs: AbstractFileSystem, root: str, manifest: Manifest, staging: Path, checked: ByteCount
) -> list[str]:
    """Copy every file into `staging`, hashing it; one line per missing or altered file."""
    problems = []
    for file in manifest.files():
        target = staging / file.path
        try:  # owner-only from the start: the file keeps its mode when it moves in
            with fs.open(f"{root}/{file.location}", "rb") as source, private_file(target) as copy:
                size, digest = copy_hashing(source, copy)
        except FileNotFoundError:
            problems.append(f"{file.location} is missing from the backup "
                            f"(expected sha256 {file.sha256})")  # fmt: skip
            checked.advance(0)
            continue
        if digest != file.sha256:
            problems.append(f"{file.location} is corrupt: expected sha256 {file.sha256}, "
                            f"got {digest} ({size:,} bytes, {file.bytes:,} expected)")  # fmt: skip
        checked.advance(size)
    return problems


def _remove(placed: list[Path]) -> None:
    for path in placed:
        path.unlink(missing_ok=True)


def _bronze_days(manifest: Manifest) -> tuple[str, str] | None:
    """The daily partitions bronze holds: the window to rebuild silver for."""
    prefix = f"{PARTITION_COLUMN}="
    days = sorted(
        part.removeprefix(prefix)
        for table in manifest.of_tier("bronze")
        if not table.name.endswith(QUARANTINE_SUFFIX)
        for file in table.files
        for part in file.path.split("/")
        if part.startswith(prefix)
    )
    return (days[0], days[-1]) if days else None


def _unregistered_bronze(manifest: Manifest) -> list[str]:
    """Bronze tables of the backup the registry no longer declares: their files are restored,
    but register_bronze_tables declares no Spark table for them."""
    declared = {n for spec in load_registry() for n in (spec.name, spec.name + QUARANTINE_SUFFIX)}
    return [
        f"bronze.{table.name} is not in the source registry: its files were restored to "
        f"{table.location}, no Spark table was declared for it"
        for table in manifest.of_tier("bronze")
        if table.name not in declared and table.files
    ]
