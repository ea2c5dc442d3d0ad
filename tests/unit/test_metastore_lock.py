"""The file lock that keeps a second embedded Spark off the Derby metastore."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from ettl_assets.metastore_lock import RELEASED, holding_embedded_metastore
from ettl_assets.resources import SparkEngine, Warehouse
from ettl_assets.spark_class_archive import JAVA_OPTIONS_ENV


def spark_engine(data_dir: Path, deployment: str) -> SparkEngine:
    """The resource a dbt step is given, on a data dir of its own (no environment variable)."""
    warehouse = Warehouse(data_dir=str(data_dir), landing_root=str(data_dir / "landing"))
    return SparkEngine(warehouse=warehouse, deployment=deployment)


def test_a_second_dbt_step_waits_until_the_first_releases_the_metastore(tmp_path):
    spark = spark_engine(tmp_path, "local")
    held: dict[str, tuple[float, float]] = {}
    first_holds = threading.Event()

    def dbt_step(name: str, seconds: float) -> None:
        with spark.ready_for_dbt(lambda line: None) as env:
            assert JAVA_OPTIONS_ENV in env
            first_holds.set()
            began = time.monotonic()
            time.sleep(seconds)
            held[name] = (began, time.monotonic())

    first = threading.Thread(target=dbt_step, args=("first", 1.0))
    first.start()
    assert first_holds.wait(timeout=10)
    second = threading.Thread(target=dbt_step, args=("second", 0.0))
    second.start()
    first.join()
    second.join()
    assert held["second"][0] >= held["first"][1]
    assert (tmp_path / "metastore.lock").exists()


def test_a_thrift_server_needs_no_lock(tmp_path):
    lines: list[str] = []
    with spark_engine(tmp_path, "thrift").ready_for_dbt(lines.append):
        pass
    assert not (tmp_path / "metastore.lock").exists()
    assert RELEASED not in lines


def test_a_spark_left_running_by_a_killed_step_is_waited_for(data_dir, monkeypatch):
    """Derby holds a POSIX lock on metastore_db/dbex.lck while a JVM has it open; a dbt step
    killed alone leaves that JVM running: the next step waits for it instead of failing."""
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    lock = data_dir / "metastore_db" / "dbex.lck"
    lock.parent.mkdir()
    lock.write_text("")
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'r+'); "
         "fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(1.5)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert orphan.stdout.readline() == "locked\n"
    began, lines = time.monotonic(), []
    with holding_embedded_metastore(lines.append):
        waited = time.monotonic() - began
    orphan.wait()
    assert waited > 1.0, "entered while the orphan still had the metastore open"
    assert "of a killed dbt step to close the metastore" in lines[0]
