"""The embedded Spark's class-data archive: dumped in the background, used, never a failure."""

import os
import subprocess

from ettl_assets import settings, spark_class_archive
from ettl_assets.spark_class_archive import (
    JAVA_OPTIONS_ENV,
    _run_workload,
    archive_file,
    dump_archive,
    ensure_archive,
    wait_for_dump,
)


def test_make_install_dumped_an_archive_a_jvm_maps_and_dbt_is_given_it():
    wait_for_dump()  # started in the background by make install
    archive = archive_file()
    assert archive.exists(), "make install dumps it (python -m ettl_assets.spark_class_archive)"
    # -Xshare:on makes the JVM refuse to start unless it maps the archive.
    used = _run_workload(f"-XX:SharedArchiveFile={archive} -Xshare:on")
    assert used.returncode == 0, used.stderr[-2000:]
    settings.export_environment()
    assert os.environ[JAVA_OPTIONS_ENV] == f"-XX:SharedArchiveFile={archive}"


def test_a_jvm_refuses_a_corrupt_archive_so_a_bad_dump_is_never_kept(tmp_path):
    corrupt = tmp_path / "corrupt.jsa"
    corrupt.write_bytes(archive_file().read_bytes()[:4096] + os.urandom(1 << 20))
    assert _run_workload(f"-XX:SharedArchiveFile={corrupt} -Xshare:on").returncode != 0


def test_a_failed_dump_is_logged_and_dbt_starts_without_an_archive(tmp_path, monkeypatch):
    monkeypatch.setenv(JAVA_OPTIONS_ENV, "restored after the test")
    missing = tmp_path / "share" / "spark-classes-x.jsa"
    monkeypatch.setattr(spark_class_archive, "archive_file", lambda: missing)
    failed = subprocess.CompletedProcess([], 1, "", "JAVA_GATEWAY_EXITED\n")
    monkeypatch.setattr(spark_class_archive, "_run_workload", lambda option: failed)
    logged = []
    dump_archive(logged.append)
    assert "no class-data archive, Spark starts without it: JAVA_GATEWAY_EXITED" in logged[-1]
    assert not missing.exists() and not missing.with_suffix(".partial").exists()
    settings.export_environment()
    assert os.environ[JAVA_OPTIONS_ENV] == ""


def test_a_step_that_finds_no_archive_starts_without_it_and_has_it_dumped(tmp_path, monkeypatch):
    monkeypatch.setenv(JAVA_OPTIONS_ENV, "restored after the test")
    missing = tmp_path / "share" / "spark-classes-x.jsa"
    monkeypatch.setattr(spark_class_archive, "archive_file", lambda: missing)
    started = []
    monkeypatch.setattr(spark_class_archive, "start_background_dump", lambda: started.append(1))
    logged = []
    ensure_archive(logged.append)
    assert started == [1] and "dumped in the background" in logged[0]
    assert os.environ[JAVA_OPTIONS_ENV] == ""  # this step's JVM starts without it
