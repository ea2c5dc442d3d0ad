"""Personal data on disk is readable by its owner only (docs/security.md): the data dir, landing
copies, bronze, quarantine, backups and what a restore brings back are created 0700 (folders)
and 0600 (files), whatever the umask lets others read."""

import os
import stat
from datetime import date
from pathlib import Path

import pytest

from ettl.backup.restore import restore
from ettl.backup.snapshot import take_backup
from ettl_assets import pii_key, settings
from ettl_assets.bronze.assets import ingest, quarantine_dir
from ettl_samples.landing import land_sample_data
from tests.unit.deliveries import FLIGHTS, GOOD, SOURCES, csv_file, deliver
from tests.unit.test_backup import RecordingCatalog, build_data_dir

DAY = "2013-01-02"


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask (group and others may read): what the modes must not depend on."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    """Every folder and file under `root` (and root itself) that is not owner-only, with its
    mode; empty when all are."""
    found = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            found[str(path.relative_to(root.parent))] = oct(mode)
    return found


def test_landing_bronze_and_quarantine_are_owner_only_from_a_new_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"  # does not exist: the pipeline creates it
    monkeypatch.setenv("ETTL_DATA_DIR", str(data))
    day = date.fromisoformat(DAY)
    land_sample_data(day, day, settings.landing_dir(), progress=lambda _: None)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert (settings.landing_dir() / "passengers" / f"{DAY}.parquet").is_file()
    assert modes(settings.landing_dir()) == {}

    assert ingest(SOURCES["passengers"], DAY, run_id="run-1").rows > 0
    deliver(FLIGHTS, csv_file(GOOD[0], "not,a,flight"))  # one row for quarantine
    assert ingest(FLIGHTS, DAY, run_id="run-2").rows_quarantined == 1
    assert list(quarantine_dir(FLIGHTS, DAY).glob("*.parquet"))
    assert modes(settings.bronze_dir()) == {}
    assert modes(settings.warehouse_dir()) == {}


def test_the_local_key_makes_the_data_dir_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "data"))  # `make install` creates it
    pii_key._local_key()
    assert modes(tmp_path / "data") == {}


def test_a_backup_and_what_restore_brings_back_are_owner_only(tmp_path, monkeypatch):
    source = tmp_path / "source"
    build_data_dir(source)
    monkeypatch.setenv("ETTL_DATA_DIR", str(source))
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    take_backup(str(tmp_path / "backups" / "first"), out=lambda _: None)
    assert modes(tmp_path / "backups") == {}
    take_backup(None, out=lambda _: None)  # the default location, inside the data dir
    assert modes(source / "backups") == {}

    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "restored"))
    RecordingCatalog(monkeypatch)
    restore(str(tmp_path / "backups" / "first"), tmp_path / "restore.log", out=lambda _: None)
    assert stat.S_IMODE((tmp_path / "restored").stat().st_mode) == 0o700
    assert modes(tmp_path / "restored" / "warehouse") == {}
