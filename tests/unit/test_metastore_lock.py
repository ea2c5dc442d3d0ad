"""The file lock that keeps a second embedded Spark off the Derby metastore."""

import subprocess
import sys
import threading
import time

import dagster as dg

from ettl_assets.transform.metastore_lock import embedded_metastore_lock, holding_embedded_metastore


def test_a_second_dbt_step_waits_until_the_first_releases_the_metastore(data_dir, monkeypatch):
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    held: dict[str, tuple[float, float]] = {}
    first_holds = threading.Event()

    def dbt_step(name: str, context: dg.AssetExecutionContext, seconds: float) -> None:
        with embedded_metastore_lock(context):
            first_holds.set()
            began = time.monotonic()
            time.sleep(seconds)
            held[name] = (began, time.monotonic())

    contexts = [dg.build_asset_context(), dg.build_asset_context()]
    first = threading.Thread(target=dbt_step, args=("first", contexts[0], 1.0))
    first.start()
    assert first_holds.wait(timeout=10)
    second = threading.Thread(target=dbt_step, args=("second", contexts[1], 0.0))
    second.start()
    first.join()
    second.join()
    assert held["second"][0] >= held["first"][1]


def test_a_thrift_server_needs_no_lock(data_dir, monkeypatch):
    monkeypatch.setenv("ETTL_DEPLOYMENT", "thrift")
    with embedded_metastore_lock(dg.build_asset_context()):
        pass
    assert not (data_dir / "metastore.lock").exists()


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
