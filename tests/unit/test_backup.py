"""`ettl backup` / `ettl restore` without Spark: the manifest, checksums, refusals, fsspec.

The warehouse here is written with pyarrow in the layouts bronze and Spark write; the dbt step of
a restore (ettl/backup/catalog.py) is replaced by a recorder, so these tests check what
restore hands to dbt and when. tests/e2e/test_backup.py runs the real thing on Spark.
"""

import hashlib
import json
import os
import uuid
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ettl.backup import catalog
from ettl.backup.manifest import MANIFEST_NAME, Manifest
from ettl.backup.restore import RestoreError, restore
from ettl.backup.snapshot import BackupError, take_backup
from ettl.backup.store import ByteCount
from ettl.backup.tables import SPARK_SCHEMA_KEY, _partition_type, spark_sql_type
from ettl.cli import main
from ettl.progress import progress
from ettl_assets import settings
from ettl_assets.bronze.registry import load_registry
from ettl_assets.bronze.table_columns import bronze_columns, quarantine_columns

SPARK_FILE = "part-00000-1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b.c000.snappy.parquet"
CARRIER_SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "carrier_code", "type": "string", "nullable": True, "metadata": {}},
        {"name": "flights_scheduled", "type": "long", "nullable": True, "metadata": {}},
        {"name": "on_time_arrival_rate", "type": "double", "nullable": True, "metadata": {}},
    ],
}


def _write(path: Path, table: pa.Table, metadata: dict[bytes, bytes] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(metadata) if metadata else table, path)


def build_data_dir(data: Path) -> None:
    """Bronze (two days of flights, a quarantine file, a snapshot), gold as Spark writes it,
    and things a backup must leave alone: silver, secrets, the Dagster instance."""
    warehouse = data / "warehouse"
    for day, rows in (("2013-01-01", 3), ("2013-01-02", 2)):
        flights = pa.table({"flight": list(range(rows)), "carrier": ["UA"] * rows})
        _write(warehouse / f"bronze.db/flights/partition_date={day}/part-0.parquet", flights)
    rejected = pa.table({"raw_text": ["x,y"], "reason": ["expected 19 fields, found 2"]})
    _write(warehouse / "bronze.db/flights__quarantine/partition_date=2013-01-02/run-1.parquet",
           rejected)  # fmt: skip
    _write(warehouse / "bronze.db/airlines/part-0.parquet", pa.table({"carrier": ["UA", "AA"]}))
    (warehouse / "bronze.db/flights/.part-0.parquet.1234.tmp").write_bytes(b"half a write")

    spark = {SPARK_SCHEMA_KEY: json.dumps(CARRIER_SCHEMA).encode()}
    for day, carriers in (("2013-01-02", ["UA", "AA"]), ("2013-01-03", ["UA"])):
        daily = pa.table({"carrier_code": carriers, "flights_scheduled": [10] * len(carriers),
                          "on_time_arrival_rate": [0.5] * len(carriers)})  # fmt: skip
        folder = warehouse / f"gold.db/fct_daily_carrier_performance/flight_date={day}"
        _write(folder / SPARK_FILE, daily, spark)
        (folder / f".{SPARK_FILE}.crc").write_bytes(b"crc")
    (warehouse / "gold.db/fct_daily_carrier_performance/_SUCCESS").write_bytes(b"")
    dim = pa.table({"carrier_code": ["UA"], "carrier_name": ["United"], "fleet": pa.array([3])})
    _write(warehouse / "gold.db/dim_carriers" / SPARK_FILE, dim)
    (warehouse / "gold.db/dim_empty").mkdir()

    _write(warehouse / "silver.db/stg_x/part-0.parquet", pa.table({"a": [1]}))
    (data / "secrets").mkdir()
    (data / "secrets" / "token").write_text("s3cr3t")
    (data / "dagster_home").mkdir()
    (data / "dagster_home" / "runs.db").write_text("instance")


@pytest.fixture
def source(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    build_data_dir(data)
    monkeypatch.setenv("ETTL_DATA_DIR", str(data))
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    return data


class RecordingCatalog:
    """Stands in for the dbt run-operations; records what the warehouse held at each call."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, list[str], int]] = []
        monkeypatch.setattr(catalog, "create_tables", self._record("create"))
        monkeypatch.setattr(catalog, "recover_tables", self._record("recover"))

    def _record(self, name):
        def call(tables, log):
            files = [p for p in settings.warehouse_dir().rglob("*") if p.is_file()]
            self.calls.append((name, [t.name for t in tables], len(files)))

        return call


def warehouse_files(data: Path) -> dict[str, bytes]:
    root = data / "warehouse"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def backed_up(data: Path) -> dict[str, bytes]:
    """The files a backup must hold: bronze and gold data files, nothing hidden."""
    return {
        path: content
        for path, content in warehouse_files(data).items()
        if path.startswith(("bronze.db/", "gold.db/"))
        and not any(part.startswith((".", "_")) for part in path.split("/"))
    }


def test_the_manifest_lists_every_table_with_its_definition_files_rows_and_checksums(
    source, tmp_path
):
    result = take_backup(str(tmp_path / "backup"), out=lambda line: None)
    manifest = Manifest.from_json((tmp_path / "backup" / MANIFEST_NAME).read_text())
    assert manifest == result.manifest
    assert manifest.project_version == "0.1.0" and manifest.created_at.endswith("Z")
    tables = {t.name: t for t in manifest.tables}
    specs = load_registry()
    assert set(tables) == {n for s in specs for n in (s.name, f"{s.name}__quarantine")} | {
        "fct_daily_carrier_performance",
        "dim_carriers",
    }
    assert result.skipped == ["gold.db/dim_empty: no data files to read its columns from"]

    flights, spec = tables["flights"], next(s for s in specs if s.name == "flights")
    assert flights.tier == flights.schema == "bronze" and flights.location == "bronze.db/flights"
    assert {c.name: c.type for c in flights.columns} == bronze_columns(spec)
    assert flights.partition_columns == ("partition_date",)
    assert (flights.rows, len(flights.files)) == (5, 2)  # the .tmp file is not data
    quarantine = tables["flights__quarantine"]
    assert {c.name: c.type for c in quarantine.columns} == quarantine_columns(spec)
    assert quarantine.rows == 1

    fct = tables["fct_daily_carrier_performance"]
    assert fct.tier == "gold" and fct.location == "gold.db/fct_daily_carrier_performance"
    assert [(c.name, c.type) for c in fct.columns] == [
        ("carrier_code", "string"), ("flights_scheduled", "bigint"),
        ("on_time_arrival_rate", "double"), ("flight_date", "date"),
    ]  # fmt: skip
    assert fct.partition_columns == ("flight_date",) and fct.rows == 3
    dim = tables["dim_carriers"]  # no Spark schema in the footer: Arrow types mapped
    assert [(c.name, c.type) for c in dim.columns] == [
        ("carrier_code", "string"), ("carrier_name", "string"), ("fleet", "bigint"),
    ]  # fmt: skip

    # Every data file of bronze and gold, byte for byte, with its sha256; nothing else.
    expected = backed_up(source)
    assert {f.path for f in manifest.files()} == set(expected)
    for file in manifest.files():
        copy = (tmp_path / "backup" / file.location).read_bytes()
        assert copy == expected[file.path]
        assert file.sha256 == hashlib.sha256(copy).hexdigest() and file.bytes == len(copy)
    kept = {p.relative_to(tmp_path / "backup").as_posix() for p in (tmp_path / "backup").rglob("*")}
    assert not [p for p in kept if "secret" in p or "dagster" in p or "silver" in p]


def test_the_default_location_is_a_utc_timestamp_under_the_data_dir(source):
    result = take_backup(None, out=lambda line: None)
    location = Path(result.url)
    assert location.parent == source / "backups" and location.name.endswith("Z")
    assert (location / MANIFEST_NAME).exists()


def test_a_backup_never_overwrites_another(source, tmp_path):
    take_backup(str(tmp_path / "backup"), out=lambda line: None)
    with pytest.raises(BackupError, match="already holds a backup"):
        take_backup(str(tmp_path / "backup"), out=lambda line: None)


def test_round_trip_through_memory_restores_every_file_and_declares_gold_before_the_files(
    source, tmp_path, monkeypatch
):
    url = f"memory://ettl-test-{uuid.uuid4().hex}"
    try:
        lines: list[str] = []
        take_backup(url, out=lines.append)
        assert lines[-1].startswith("  copied: 7/7 files")
        target = tmp_path / "restored"
        monkeypatch.setenv("ETTL_DATA_DIR", str(target))
        recorder = RecordingCatalog(monkeypatch)
        result = restore(url, tmp_path / "restore.log", out=lines.append)
    finally:
        fsspec.filesystem("memory").rm(url.removeprefix("memory://"), recursive=True)

    assert warehouse_files(target) == backed_up(source)
    gold = ["dim_carriers", "fct_daily_carrier_performance"]
    # Spark refuses a managed table over a non-empty folder: created while nothing is there.
    assert recorder.calls == [("create", gold, 0), ("recover", gold, 7)]
    assert result.bronze_days == ("2013-01-01", "2013-01-02")
    assert not [p for p in target.iterdir() if p.name.startswith(".restore-")]  # staging gone


@pytest.fixture
def backup(source, tmp_path) -> Path:
    take_backup(str(tmp_path / "backup"), out=lambda line: None)
    return tmp_path / "backup"


@pytest.fixture
def empty_target(tmp_path, monkeypatch) -> Path:
    target = tmp_path / "restored"
    monkeypatch.setenv("ETTL_DATA_DIR", str(target))
    return target


def _damage(backup: Path) -> tuple[str, str, str]:
    """Flip one byte of a backed-up gold file; (its location, expected sha256, actual)."""
    manifest = Manifest.from_json((backup / MANIFEST_NAME).read_text())
    file = next(f for f in manifest.files() if f.path.startswith("gold.db/fct"))
    content = bytearray((backup / file.location).read_bytes())
    content[len(content) // 2] ^= 0xFF
    (backup / file.location).write_bytes(bytes(content))
    return file.location, file.sha256, hashlib.sha256(content).hexdigest()


def test_a_corrupted_file_stops_the_restore_before_anything_is_written(
    backup, empty_target, tmp_path, monkeypatch
):
    location, expected, actual = _damage(backup)
    recorder = RecordingCatalog(monkeypatch)
    with pytest.raises(RestoreError) as raised:
        restore(str(backup), tmp_path / "restore.log", out=lambda line: None)
    message = str(raised.value)
    assert message.startswith("nothing was restored: ")
    assert location in message and expected in message and actual in message
    assert "\n" not in message
    assert recorder.calls == []
    assert not (empty_target / "warehouse").exists() or warehouse_files(empty_target) == {}
    assert not [p for p in empty_target.iterdir() if p.name.startswith(".restore-")]
    assert location in (tmp_path / "restore.log").read_text()


def test_a_missing_file_is_named_with_its_expected_checksum(backup, empty_target, tmp_path):
    manifest = Manifest.from_json((backup / MANIFEST_NAME).read_text())
    lost = manifest.files()[0]
    (backup / lost.location).unlink()
    with pytest.raises(RestoreError, match=f"{lost.location} is missing from the backup "
                                           f"\\(expected sha256 {lost.sha256}\\)"):  # fmt: skip
        restore(str(backup), tmp_path / "restore.log", out=lambda line: None)
    assert not (empty_target / "warehouse").exists() or warehouse_files(empty_target) == {}


def test_restore_refuses_a_warehouse_that_holds_files(backup, source, tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(source))
    recorder = RecordingCatalog(monkeypatch)
    before = warehouse_files(source)
    with pytest.raises(RestoreError, match="is not empty .*restore only into an empty one"):
        restore(str(backup), tmp_path / "restore.log", out=lambda line: None)
    assert recorder.calls == [] and warehouse_files(source) == before


def test_restore_refuses_a_backup_without_manifest(backup, empty_target, tmp_path):
    (backup / MANIFEST_NAME).unlink()
    with pytest.raises(RestoreError, match="no manifest.json at .*did not finish"):
        restore(str(backup), tmp_path / "restore.log", out=lambda line: None)


def test_restore_refuses_a_manifest_with_paths_outside_the_warehouse(
    backup, empty_target, tmp_path
):
    document = json.loads((backup / MANIFEST_NAME).read_text())
    document["tables"][0]["files"].append(
        {"path": "gold.db/../../secrets/token", "bytes": 1, "rows": 0, "sha256": "0" * 64}
    )
    (backup / MANIFEST_NAME).write_text(json.dumps(document))
    with pytest.raises(
        RestoreError,
        match=r"manifest.json: tables\[0\].files\[\d+\].path: "
        "'gold.db/../../secrets/token' is not a file in",
    ):
        restore(str(backup), tmp_path / "restore.log", out=lambda line: None)
    assert not (empty_target / "warehouse").exists()


def test_the_cli_reports_a_corrupt_backup_in_one_line_with_the_log(backup, empty_target, capsys):
    location, expected, actual = _damage(backup)
    assert main(["restore", "--from", f"file://{backup}"]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and error.startswith("ettl restore failed: nothing was restored:")
    assert location in error and expected in error and actual in error
    log = Path(error.rsplit("(details: ", 1)[1].rstrip(")"))
    assert log.parent == empty_target / "logs" and location in log.read_text()


def test_the_cli_prints_a_summary_of_the_backup(source, tmp_path, capsys):
    assert main(["backup", "--to", str(tmp_path / "backup")]) == 0
    output = capsys.readouterr().out
    assert f"written to {tmp_path / 'backup'}" in output
    total = next(line for line in output.splitlines() if line.strip().startswith("total"))
    # Tables: every registry source and its quarantine table, and the 2 gold tables with files.
    tables = 2 * len(load_registry()) + 2
    assert total.split()[1:4] == [str(tables), "7", "12"]  # tables, files, rows
    assert f"ettl restore --from {tmp_path / 'backup'}" in output


@pytest.mark.parametrize(
    ("json_type", "sql"),
    [
        ("long", "bigint"), ("integer", "int"), ("string", "string"), ("decimal(10,2)",
        "decimal(10,2)"), ({"type": "array", "elementType": "short", "containsNull": True},
        "array<smallint>"), ({"type": "map", "keyType": "string", "valueType": "double"},
        "map<string,double>"), ({"type": "struct", "fields": [{"name": "a", "type": "byte"}]},
        "struct<`a`:tinyint>"),
    ],
)  # fmt: skip
def test_spark_schema_types_become_sql_types(json_type, sql):
    assert spark_sql_type(json_type) == sql


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2013-01-02", "__HIVE_DEFAULT_PARTITION__"], "date"),
        (["1", "-7"], "int"),
        (["1", str(2**40)], "bigint"),
        (["EWR", "2013-01-02"], "string"),
    ],
)
def test_partition_column_types_are_inferred_from_folder_names(values, expected):
    assert _partition_type(values) == expected


def test_every_backed_up_byte_comes_from_the_warehouse(source, tmp_path):
    """What a backup reads: nothing outside warehouse/bronze.db and warehouse/gold.db."""
    take_backup(str(tmp_path / "backup"), out=lambda line: None)
    stored = {
        p.relative_to(tmp_path / "backup" / "warehouse").parts[0]
        for p in (tmp_path / "backup" / "warehouse").rglob("*")
        if p.is_file()
    }
    assert stored == {"bronze.db", "gold.db"}
    assert sorted(os.listdir(tmp_path / "backup")) == [MANIFEST_NAME, "warehouse"]


def test_progress_prints_each_tenth_and_the_end():
    lines: list[str] = []
    with progress("  copied", 25, write=lines.append) as advance:
        copied = ByteCount(advance, 25_000_000)
        for _ in range(25):
            copied.advance(1_000_000)
    assert len(lines) == 10 and lines[0] == "  copied: 3/25 files (3.0 MB of 25.0 MB)"
    assert lines[-1] == "  copied: 25/25 files (25.0 MB of 25.0 MB)"


def test_a_dbt_error_is_reduced_to_the_macros_own_message():
    message = (
        "Encountered an error while running operation: Runtime Error\n"
        "  Compilation Error in macro create_restored_tables (macros/restore_tables.sql)\n"
        "    gold.dim_airports already exists in the Spark catalog: restore only declares new\n"
        "    \n"
        "    > in macro create_restored_tables (macros/restore_tables.sql)\n"
        "    > called by macro create_restored_tables (macros/restore_tables.sql)"
    )
    assert catalog._essence(message) == (
        "gold.dim_airports already exists in the Spark catalog: restore only declares new"
    )
