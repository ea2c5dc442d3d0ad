"""The local deployment's warm Spark server (ETTL_WARM_SPARK_IDLE_MINUTES): the first dbt step
starts it, every later step and run finds it warm, `ettl dbt` by hand works beside it, and
nothing is left running.

Own data dir and instance, so the session's embedded-Spark metastore is never touched. The tests
run in file order: each builds on what the one before left.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from ettl_assets import warm_spark
from ettl_assets.metastore_lock import LOCK_FILE_NAME
from tests.e2e.helpers import (
    BIN,
    PROJECT_ROOT,
    assert_gold_matches_pandas,
    days,
    materialize,
    read_table,
    run_command,
)

pytestmark = pytest.mark.e2e

WINDOW = ("2013-01-02", "2013-01-03")


def _locked(path: Path) -> bool:
    """Someone holds the metastore lock (its holder in /proc/locks is whoever took it: for the
    server, the step that started it and handed it over)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """An environment whose dbt steps use a warm server; whatever it started is stopped."""
    root = tmp_path_factory.mktemp("warm")
    (root / "dagster_home").mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", root / "dagster_home")
    data = root / "data"
    files = warm_spark.server_files(data)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ETTL_DATA_DIR", str(data))
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        env.setenv(warm_spark.IDLE_MINUTES_ENV, "30")  # longer than the tests: they stop it
        started: set[int] = set()
        try:
            yield files, started
        finally:
            started |= {p for p in (_pid(files.pid), _pid(files.watchdog_pid)) if p}
            subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], timeout=120, check=False)
            for pid in started:  # never leave a JVM or a watchdog behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def test_the_steps_of_a_run_share_one_warm_server_and_gold_is_right(warm):
    files, started = warm
    output = run_command(
        [str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]], "warm-run"
    )
    assert "Done:" in output
    started.add(_pid(files.pid))
    assert_gold_matches_pandas(days(*WINDOW))
    # One server for the run's two dbt steps: started by the first, found by the second.
    assert output.count("starting a warm Spark server") == 1
    assert "warm Spark server on 127.0.0.1:" in output
    # The SQL ran in the server, which holds the metastore lock (not an embedded Spark).
    assert "fct_daily_carrier_performance" in files.log.read_text()
    assert _locked(files.root.parent / LOCK_FILE_NAME)


def test_the_next_run_finds_the_server_warm(warm):
    files, _ = warm
    pid = _pid(files.pid)
    output = materialize("silver/stg_flights__flights", WINDOW[0], "warm-second-run")
    assert "starting a warm Spark server" not in output
    assert f"(pid {pid})" in output
    assert _pid(files.pid) == pid


def test_dbt_by_hand_runs_on_the_warm_server_beside_it(warm):
    files, _ = warm
    day = WINDOW[1]
    output = run_command(
        [str(BIN / "ettl"), "dbt", "show", "--inline",
         "select count(*) as flights from silver.stg_flights__flights "
         f"where flight_date = date'{day}'"],
        "warm-dbt-by-hand",
    )  # fmt: skip
    silver = read_table("silver", "stg_flights__flights")
    expected = int((silver["flight_date"] == day).sum())  # read from the Parquet files
    assert f"| {expected:>7} |" in output or f"| {expected} " in output, output[-2000:]
    assert "starting a warm Spark server" not in output


def test_stopping_it_frees_the_metastore_for_an_embedded_spark(warm):
    files, _ = warm
    pid = _pid(files.pid)
    output = run_command([str(BIN / "ettl"), "spark-server", "stop"], "warm-stop")
    assert f"warm Spark server stopped (pid {pid})" in output
    assert warm_spark.running_server(files) is None
    assert not _locked(files.root.parent / LOCK_FILE_NAME)
    # With the warm server off again, a step starts its embedded Spark on the same catalog.
    os.environ.pop(warm_spark.IDLE_MINUTES_ENV)
    output = materialize("silver/stg_flights__flights", WINDOW[0], "warm-off-again")
    assert "warm Spark server" not in output
