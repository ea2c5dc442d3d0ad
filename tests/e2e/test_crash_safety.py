"""A run killed at any moment needs no manual repair (docs/operations.md#when-a-run-is-killed).

One day is built in a data dir and Dagster instance of its own, by `ettl run` started five times:
SIGKILL of its process group while bronze writes, Ctrl-C (SIGINT to the group, as a terminal
sends it) while dbt writes silver, SIGKILL while dbt writes silver, SIGKILL while dbt writes
gold, then a last run that must finish by itself. Each run reaching the point where it is
stopped shows the one before did not block it. Afterwards every table of every tier must equal,
row for row, the same day of the session's clean run (tests/e2e/conftest.py), an independent
build in another data dir. A tier "is being written" when a file under its warehouse folder is
newer than the run's start: the moment is taken from the files, not from the run's own events.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from ettl.interrupt import EXIT_INTERRUPTED
from tests.e2e.conftest import WINDOW
from tests.e2e.helpers import ARTIFACTS, BIN, PROJECT_ROOT

pytestmark = pytest.mark.e2e

DAY = WINDOW[0]  # built by the session's clean run too: the reference
TIERS = ("bronze", "silver", "gold")
# Audit columns that differ between any two runs (when, which run); the landing file they name
# is compared relative to the data dir.
PER_RUN_COLUMNS = ["_ingested_at", "_run_id"]
STOP_TIMEOUT = 25 * 60  # a stage not reached by then: the run is stuck (e.g. blocked)
FINISH_TIMEOUT = 30 * 60  # generous: this machine is shared, and timings are noisy


def _newer_file(folder: Path, since: float) -> Path | None:
    if not folder.exists():
        return None
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime > since:
                return path
        except FileNotFoundError:  # a temp file renamed under our feet
            continue
    return None


def _group_gone(pgid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def ettl_run(env: dict[str, str], log_name: str, stop_when: str | None = None, sig=None) -> str:
    """`ettl run` of DAY in its own process group. With `stop_when` (a tier), send `sig` to the
    whole group as soon as that tier's folder gets a file newer than the run's start. Returns
    the output; fails if the run exits otherwise than expected."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{log_name}.log"
    folder = Path(env["ETTL_DATA_DIR"]) / "warehouse" / f"{stop_when}.db"
    began = time.time()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "ettl"), "run", "--start", DAY, "--end", DAY],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we signal only what we started
        )  # fmt: skip
        try:
            if stop_when is None:
                code = process.wait(timeout=FINISH_TIMEOUT)
                expected = 0
            else:
                while process.poll() is None and _newer_file(folder, began) is None:
                    assert time.time() - began < STOP_TIMEOUT, f"{stop_when} never written: {log}"
                    time.sleep(0.1)
                assert process.poll() is None, f"the run ended before writing {stop_when}: {log}"
                os.killpg(process.pid, sig)
                code = process.wait(timeout=FINISH_TIMEOUT)
                expected = EXIT_INTERRUPTED if sig == signal.SIGINT else -signal.SIGKILL
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        assert _group_gone(process.pid), f"processes of {log_name} outlived it"
    output = log.read_text()
    assert code == expected, f"{log_name} exited {code}, not {expected}: {log}\n{output[-3000:]}"
    return output


def read_tier_table(data_dir: Path, tier: str, name: str, day: str | None) -> pd.DataFrame:
    """A table's rows from its Parquet files (hidden and `_` files skipped, as by Spark), for
    `day` only when the table is partitioned by day, comparable across data dirs."""
    path = data_dir / "warehouse" / f"{tier}.db" / name
    frame = ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()
    partition_columns = [p.name.split("=")[0] for p in path.iterdir() if "=" in p.name]
    if partition_columns and day is not None:
        frame = frame[frame[partition_columns[0]].astype("string") == day]
    frame = frame.drop(columns=[c for c in PER_RUN_COLUMNS if c in frame.columns])
    if "_source_file" in frame.columns:
        frame["_source_file"] = frame["_source_file"].str.replace(str(data_dir), "<data>")
    for column in frame.columns:
        frame[column] = frame[column].astype("string")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def tables(data_dir: Path) -> set[tuple[str, str]]:
    found = set()
    for tier in TIERS:
        folder = data_dir / "warehouse" / f"{tier}.db"
        found |= {(tier, p.name) for p in folder.iterdir() if p.is_dir()}
    return found


def assert_same_tables(killed: Path, clean: Path, only: str | None = None) -> None:
    """Every table (of tier `only`, or of every tier) of the killed runs' data dir equals the
    clean run's, row for row, for DAY."""
    ours = {t for t in tables(killed) if only in (None, t[0])}
    theirs = {t for t in tables(clean) if only in (None, t[0])}
    assert ours == theirs
    for tier, name in sorted(ours):
        pd.testing.assert_frame_equal(
            read_tier_table(killed, tier, name, DAY),
            read_tier_table(clean, tier, name, DAY),
            obj=f"{tier}.{name}",
        )


@pytest.fixture
def own_instance(pipeline, tmp_path) -> dict[str, str]:
    """An empty data dir and Dagster instance, for the subprocesses only."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster_home/dagster.yaml").read_text())
    return {**os.environ, "ETTL_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(home)}


def test_a_run_killed_anywhere_is_repaired_by_the_next_run(own_instance, monkeypatch):
    env = own_instance
    data, clean = Path(env["ETTL_DATA_DIR"]), Path(os.environ["ETTL_DATA_DIR"])
    began = time.monotonic()

    ettl_run(env, "crash-1-kill-bronze", "bronze", signal.SIGKILL)

    # Ctrl-C while dbt writes silver: the run is canceled and says what it built and did not.
    output = ettl_run(env, "crash-2-ctrl-c-silver", "silver", signal.SIGINT)
    assert "canceled" in output
    assert "  built      bronze/flights" in output
    assert "  not built  gold/fct_daily_carrier_performance" in output
    assert_same_tables(data, clean, only="bronze")  # the bronze kill left nothing half-written

    ettl_run(env, "crash-3-kill-silver", "silver", signal.SIGKILL)
    ettl_run(env, "crash-4-kill-gold", "gold", signal.SIGKILL)
    output = ettl_run(env, "crash-5-next-run")
    assert "Done:" in output

    assert_same_tables(data, clean)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with DagsterInstance.get() as instance:
        runs = {r.run_id: r for r in instance.get_runs()}
        assert DagsterRunStatus.CANCELED in {r.status for r in runs.values()}  # the Ctrl-C'd run
        assert not [r for r in runs.values() if not r.is_finished], "a run was left in progress"
        killed = [r for r in runs.values() if r.status == DagsterRunStatus.FAILURE]
        assert len(killed) >= 3  # at least one run per SIGKILL
        for run in killed:  # marked by the next launch, saying why
            records = instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.RUN_FAILURE
            ).records
            assert "is gone" in records[-1].event_log_entry.dagster_event.message
    status = subprocess.run(
        [str(BIN / "ettl"), "status"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "runs in progress:\n  none" in status
    assert "metastore.lock: free" in status
    print(f"kill test: {time.monotonic() - began:.0f} s for five runs")
