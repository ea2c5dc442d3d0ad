"""What a killed run leaves (a STARTED run, a pool slot) is found by its dead process and freed;
what `ettl status` reads about locks and what an interrupted launch built."""

import fcntl
import os
import subprocess
import sys
import time

import dagster as dg
from dagster._core.events import EngineEventData

from ettl.built_report import spans
from ettl.run_reaper import process_started_at, repair, runs_in_progress
from ettl_assets.os_locks import lock_holders


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _started_run(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    """A run as the executor leaves it: STARTED, its process named in an engine event."""
    run = instance.add_run(
        dg.DagsterRun(job_name="all_tiers_daily", status=dg.DagsterRunStatus.STARTED)
    )
    instance.report_engine_event(
        f"Executing steps using multiprocess executor: parent process (pid: {pid})",
        run,
        EngineEventData.multiprocess(pid),
    )
    return run


def test_a_live_process_is_seen_alive_and_a_finished_one_is_not():
    assert process_started_at(os.getpid()) is not None
    assert process_started_at(_dead_pid()) is None


def test_repair_marks_a_run_whose_process_died_failed_and_frees_its_pool_slot(monkeypatch):
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    with dg.instance_for_test() as instance:
        dead = _started_run(instance, _dead_pid())
        alive = _started_run(instance, os.getpid())  # this process started before the run
        storage = instance.event_log_storage
        storage.set_concurrency_slots("dbt_spark", 1)
        storage.claim_concurrency_slot("dbt_spark", dead.run_id, "daily_dbt_models")
        assert {p.run.run_id: p.dead for p in runs_in_progress(instance)} == {
            dead.run_id: True,
            alive.run_id: False,
        }

        freed = repair(instance)

        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("dbt_spark").claimed_slots == []
        assert len(freed) == 2 and "marked FAILURE" in freed[0] and "freed the slot" in freed[1]
        assert repair(instance) == []  # nothing left to free


def test_a_reused_pid_does_not_keep_a_dead_run_alive(monkeypatch):
    """The pid the run's event names now belongs to a process started after the run: the run's
    own process is gone."""
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    with dg.instance_for_test() as instance:
        run = instance.add_run(
            dg.DagsterRun(job_name="all_tiers_daily", status=dg.DagsterRunStatus.STARTED)
        )
        time.sleep(1.5)  # /proc gives the boot time in whole seconds
        later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            instance.report_engine_event("x", run, EngineEventData.multiprocess(later.pid))
            monkeypatch.setattr("ettl.run_reaper.START_SLACK_SECONDS", 0.0)
            (process,) = runs_in_progress(instance)
            assert process.pid == later.pid and process.dead
        finally:
            later.kill()
            later.wait()


def test_flock_holders_names_the_process_that_holds_the_lock(tmp_path):
    path = tmp_path / "metastore.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert lock_holders(path) == ([os.getpid()], [])
    assert lock_holders(path) == ([], [])


def test_spans_compress_consecutive_days():
    days = ["2013-01-01", "2013-01-02", "2013-01-03", "2013-01-05"]
    assert spans(days) == "2013-01-01..2013-01-03, 2013-01-05"
    assert spans([None]) == "(whole table)"
