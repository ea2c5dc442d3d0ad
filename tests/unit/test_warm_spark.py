"""The warm Spark server's pieces that need no Spark: its setting, what dbt is told, the watchdog
(with a stand-in process for the server) and `ettl dbt`'s command. The server itself runs in
tests/e2e/test_warm_spark.py."""

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ettl import dbt_by_hand
from ettl_assets import settings, warm_spark
from ettl_assets.resources import SparkEngine, Warehouse
from ettl_assets.server_processes import alive
from ettl_assets.thrift_server import THRIFT_SERVER_CLASS


@pytest.fixture
def stand_in(tmp_path):
    """A process in the warm server's place (its command line names the server's class, as the
    server's does): its pid and a port in the data dir's files. It stops on SIGTERM whatever
    this process ignores (a child inherits an ignored SIGTERM)."""
    files = warm_spark.server_files(tmp_path)
    files.root.mkdir()
    stand_in = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_DFL); time.sleep(300)"
    process = subprocess.Popen(
        [sys.executable, "-c", stand_in, THRIFT_SERVER_CLASS], start_new_session=True
    )
    files.pid.write_text(str(process.pid))
    files.port.write_text("10123")
    yield files, process
    process.kill()
    process.wait()


def exited(process: subprocess.Popen) -> bool:
    """The stand-in has exited. Asked of its Popen, not of its pid: once the watchdog has reaped
    it, a busy machine (pid_max 32768 here) may already have given that pid to another process."""
    return process.poll() is not None


def _age(path, seconds: float) -> None:
    path.touch()
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_setting_is_off_by_default_and_must_be_positive_minutes(monkeypatch):
    monkeypatch.delenv(warm_spark.IDLE_MINUTES_ENV, raising=False)
    assert warm_spark.idle_minutes() is None
    monkeypatch.setenv(warm_spark.IDLE_MINUTES_ENV, "2.5")
    assert warm_spark.idle_minutes() == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv(warm_spark.IDLE_MINUTES_ENV, bad)
        with pytest.raises(ValueError, match=f"{warm_spark.IDLE_MINUTES_ENV}=.*minutes above 0"):
            warm_spark.idle_minutes()


def test_the_resource_takes_the_setting_and_dbt_is_pointed_at_the_server(monkeypatch):
    monkeypatch.setenv(warm_spark.IDLE_MINUTES_ENV, "20")
    engine = SparkEngine.configured(Warehouse.configured())
    assert engine.warm_idle_minutes == 20
    env = warm_spark.dbt_environment(10123)
    assert env == {"ETTL_DBT_TARGET": "thrift", settings.SPARK_HOST_ENV: "127.0.0.1",
                   settings.SPARK_PORT_ENV: "10123"}  # fmt: skip
    # profiles.yml reads the same variable for its target.
    profiles = (settings.DBT_PROJECT_DIR / "profiles.yml").read_text()
    assert f"env_var('{warm_spark.DBT_TARGET_ENV}'" in profiles


def test_the_server_is_found_only_while_its_process_lives(stand_in):
    files, process = stand_in
    assert warm_spark.running_server(files) == (process.pid, 10123)
    process.kill()
    process.wait()
    assert warm_spark.running_server(files) is None


def test_a_live_process_that_took_a_stale_pid_is_neither_the_server_nor_stopped(tmp_path):
    """The server died without cleaning up and its pid went to another process: not found, and
    `stop` leaves that process alone."""
    files = warm_spark.server_files(tmp_path)
    files.root.mkdir()
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    command = Path(f"/proc/{other.pid}/cmdline")
    while not command.read_bytes():  # it reads empty for an instant after exec
        time.sleep(0.01)
    try:
        files.pid.write_text(str(other.pid))
        files.port.write_text("10123")
        assert warm_spark.running_server(files) is None
        assert warm_spark.stop(tmp_path, print) is None
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_the_watchdog_stops_the_server_once_idle_long_enough(stand_in):
    files, process = stand_in
    _age(files.last_used, 120)  # last used two minutes ago
    warm_spark.watch(files.root.parent, minutes=1, poll=0.05)
    assert process.wait(timeout=30) is not None
    assert not files.pid.exists() and not files.port.exists()


def test_the_watchdog_leaves_a_server_in_use_or_recently_used(stand_in):
    files, process = stand_in
    _age(files.last_used, 120)
    watchdog = threading.Thread(target=warm_spark.watch, args=(files.root.parent, 1, 0.05))
    with files.in_use_lock.open("a") as step:
        fcntl.flock(step, fcntl.LOCK_SH)  # a dbt step uses it
        watchdog.start()
        time.sleep(1)
        assert alive(process.pid)
        files.last_used.touch()  # the step is done with it now
    time.sleep(1)
    assert alive(process.pid)  # used a moment ago
    _age(files.last_used, 120)
    watchdog.join(timeout=30)
    assert not watchdog.is_alive() and exited(process)


def test_stop_waits_for_the_steps_using_the_server(stand_in):
    files, process = stand_in
    stopped = threading.Event()
    with files.in_use_lock.open("a") as step:
        fcntl.flock(step, fcntl.LOCK_SH)
        stopper = threading.Thread(
            target=lambda: (warm_spark.stop(files.root.parent, lambda _: None), stopped.set())
        )
        stopper.start()
        time.sleep(1)
        assert not stopped.is_set() and alive(process.pid)
    stopper.join(timeout=30)
    assert stopped.is_set() and exited(process)


def test_the_server_is_not_given_the_pii_key(monkeypatch):
    monkeypatch.setenv("DBT_ENV_SECRET_PII_HMAC_KEY", "a" * 64)
    env = warm_spark.server_environment()
    assert "DBT_ENV_SECRET_PII_HMAC_KEY" not in env
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"


def test_ettl_dbt_runs_the_installed_dbt_on_the_project_unless_told_otherwise():
    project = str(settings.DBT_PROJECT_DIR)
    assert dbt_by_hand.command(["build", "-s", "x"]) == [
        dbt_by_hand.DBT_EXECUTABLE, "build", "-s", "x",
        "--project-dir", project, "--profiles-dir", project,
    ]  # fmt: skip
    mine = ["show", "--project-dir", "/p", "--profiles-dir", "/q"]
    assert dbt_by_hand.command(mine) == [dbt_by_hand.DBT_EXECUTABLE, *mine]
