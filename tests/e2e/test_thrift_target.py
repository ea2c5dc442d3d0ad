"""The `thrift` target end to end: a real Spark Thrift server started from pyspark's jars
(`ettl spark-server start`, what `make spark-server` runs), the pipeline run against it with
ETTL_DEPLOYMENT=thrift, and two runs at once.

Own data dir, instance and port, so the session's embedded-Spark metastore is never touched.
The tests run in file order: the second reads the bronze the first one landed.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess

import pytest
from dagster import DagsterInstance

from tests.e2e.helpers import (
    BIN,
    PROJECT_ROOT,
    assert_gold_matches_pandas,
    days,
    materialize_at_once,
    run_command,
    step_intervals,
)

pytestmark = pytest.mark.e2e

WINDOW = ("2013-01-02", "2013-01-04")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def thrift(tmp_path_factory):
    """A started Spark Thrift server and an environment whose commands use it."""
    root = tmp_path_factory.mktemp("thrift")
    (root / "dagster_home").mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", root / "dagster_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ETTL_DATA_DIR", str(root / "data"))
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        env.setenv("ETTL_DEPLOYMENT", "thrift")
        env.setenv("ETTL_SPARK_PORT", str(_free_port()))
        run_command([str(BIN / "ettl"), "spark-server", "start"], "thrift-server-start")
        pid_file = root / "data" / "spark-server" / "server.pid"
        pid = int(pid_file.read_text())
        try:
            yield root
        finally:
            stopped = subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], timeout=120)
            with contextlib.suppress(ProcessLookupError):  # never leave a JVM behind
                os.killpg(pid, signal.SIGKILL)
            assert stopped.returncode == 0


def test_the_pipeline_on_a_thrift_server_gives_the_same_gold_numbers(thrift):
    output = run_command(
        [str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]], "thrift-run"
    )
    assert "Done:" in output
    assert_gold_matches_pandas(days(*WINDOW))
    # The SQL ran in the server, not in an embedded Spark of the dbt process.
    server_log = (thrift / "data" / "spark-server" / "server.log").read_text()
    assert "fct_daily_carrier_performance" in server_log


def test_two_runs_at_once_on_a_thrift_server_both_succeed_side_by_side(thrift):
    """No pool on this target: the server holds the metastore, the runs overlap."""
    materialize_at_once("silver/stg_flights__flights", list(WINDOW[:2]), "thrift-concurrent")

    with DagsterInstance.get() as instance:
        first, second = (step_intervals(instance, r.run_id)[0] for r in instance.get_runs(limit=2))
    assert first[0] < second[1] and second[0] < first[1], "the two dbt steps did not overlap"
