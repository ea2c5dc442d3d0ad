"""The reconciliation ledger's rules and sums on small tables counted by hand."""

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from ettl_assets.bronze.assets import DATA_FILE_NAME, daily_partition_dir
from ettl_assets.reconciliation import store
from ettl_assets.reconciliation.checks import (
    ROW_RULE_COUNTS_ENV,
    ledger_checks_selected,
    run_window,
)
from ettl_assets.reconciliation.declarations import (
    RowRules,
    declared_row_rules,
    undeclared_daily_silver_models,
)
from ettl_assets.reconciliation.ledger import (
    BronzeDay,
    Entry,
    SilverDay,
    carry_over_entries,
    silver_days,
    silver_entries,
    unexplained,
)
from ettl_assets.reconciliation.report import failures, hops, report_lines
from ettl_assets.reconciliation.rules import GOLD, SILVER_RULES
from ettl_assets.reconciliation.window import (
    SPAN_DAYS,
    SilverPlan,
    _spans,
    gold_ledger,
    silver_ledger,
)
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.row_counts import ModelTable

D1, D2, D3 = date(2013, 1, 2), date(2013, 1, 3), date(2013, 1, 4)
DROPS = ("duplicate", "outside_window", "filed_under_other_day")
MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "silver"


def test_silver_ledger_reports_what_no_rule_explains():
    # Bronze wrote 4 rows for D1; the model counted 1 duplicate; silver holds 2: 1 unexplained.
    days = silver_days({D1: 4}, {D1: {"duplicate": 1, "outside_window": 0}}, DROPS, [D1])
    reported = {D1: BronzeDay(delivered=5, quarantined=1)}
    entries = silver_entries("flights", "stg_flights__flights", days, {D1: 2}, reported)

    (lost,) = unexplained(entries)
    assert (lost.source, lost.day, lost.tier, lost.asset, lost.amount) == (
        "flights",
        D1,
        "silver",
        "stg_flights__flights",
        Decimal(1),
    )
    bronze_hop = [e for e in entries if e.tier == "bronze"]
    assert [(e.hop, e.amount) for e in bronze_hop] == [
        ("delivered", 5),
        ("quarantined", 1),
        ("bronze_written", 4),
        ("unexplained", 0),
    ]
    (failure,) = failures(hops(entries))
    assert failure.startswith("flights 2013-01-02 silver stg_flights__flights rows: 1 unexplained")


def test_a_day_the_model_counted_nothing_for_has_every_declared_rule_at_0():
    # D2 only received a row filed from D1's delivery: no bronze file, no count of its own.
    days = silver_days({D1: 3}, {D1: {"filed_under_other_day": 1}}, DROPS, [D1, D2])
    assert days[D2] == SilverDay(0, {"duplicate": 0, "outside_window": 0,
                                     "filed_under_other_day": 0})  # fmt: skip
    assert days[D1].expected_kept == 2


def test_gold_fares_carry_over_with_bookings_without_a_flight():
    fares = [c for c in GOLD if c.fact == "fct_daily_flight_fares"]
    silver = pa.table({
        "flight_date": pa.array([D1, D1, D1, D2], pa.date32()),
        "flight_id": ["f1", "f1", "f9", "f2"],
        "fare_paid_usd": pa.array([Decimal("100.50"), Decimal("99.50"), Decimal("10.00"),
                                   Decimal("7.25")], pa.decimal128(10, 2)),
    })  # fmt: skip
    gold = pa.table({
        "flight_date": pa.array([D1, D2], pa.date32()),
        "bookings": [2, 1],
        "revenue_usd": pa.array([Decimal("200.00"), Decimal("7.25")], pa.decimal128(20, 2)),
    })  # fmt: skip
    entries = [
        e for carry in fares
        for e in carry_over_entries(carry, silver, gold, pa.array(["f1", "f2"]), D1, D3)
    ]  # fmt: skip
    amounts = {(e.day, e.measure, e.hop): e.amount for e in entries}
    # D1: 3 bookings, f9 has no flight (1 booking, 10.00); gold has 2 and 200.00.
    assert amounts[(D1, "bookings", "silver")] == 3
    assert amounts[(D1, "bookings", "dropped")] == 1
    assert amounts[(D1, "bookings", "unexplained")] == 0
    assert amounts[(D1, "revenue_usd", "silver")] == Decimal("210.00")
    assert amounts[(D1, "revenue_usd", "dropped")] == Decimal("10.00")
    assert amounts[(D1, "revenue_usd", "unexplained")] == Decimal(0)
    assert {(e.day, e.measure, e.amount) for e in unexplained(entries)} == set()
    # A gold that lost f2's booking on D2: 1 booking and 7.25 unexplained.
    short = gold.filter(pa.array([True, False]))
    lost = [
        e for c in fares
        for e in unexplained(carry_over_entries(c, silver, short, pa.array(["f1", "f2"]), D1, D3))
    ]  # fmt: skip
    assert {(e.day, e.measure, e.amount) for e in lost} == {
        (D2, "bookings", Decimal(1)),
        (D2, "revenue_usd", Decimal("7.25")),
    }


def test_every_daily_silver_model_declares_rules_the_ledger_and_the_macro_know():
    """The rule names are written once for Python (rules.SILVER_RULES) and once for the macro
    that applies them (known_row_rules in macros/row_rules.sql): both lists must be equal, and
    every daily silver model must declare its rules (else it would be missing from the ledger)."""
    macro = (MODELS_DIR.parents[1] / "macros" / "row_rules.sql").read_text()
    (known,) = re.findall(r"macro known_row_rules\(\).*?return\((\[.*?\])\)", macro, re.S)
    assert tuple(yaml.safe_load(known)) == SILVER_RULES
    manifest = json.loads(dbt_project.manifest_path.read_text())
    daily_silver = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "daily" in node["tags"]
        and node["config"].get("schema") == "silver"
    }
    declared = declared_row_rules(manifest)
    assert set(declared) == daily_silver
    assert undeclared_daily_silver_models(manifest) == []
    assert {rules.source for rules in declared.values()} == {"flights", "weather", "passengers"}
    assert all(set(rules.drops) <= set(SILVER_RULES) for rules in declared.values())


def test_an_undeclared_rule_name_or_two_bronze_sources_are_refused():
    def manifest(drops, sources):
        node = {"resource_type": "model", "name": "stg_x", "config": {"meta": {"ettl": {
            "row_rules": {"key": ["k"], "window_column": "d", "drops": drops}}}},
            "depends_on": {"nodes": sources}}  # fmt: skip
        return {
            "nodes": {"model.ettl.stg_x": node},
            "sources": {
                f"source.ettl.bronze.{name}": {"name": name, "source_name": "bronze"}
                for name in ("x", "y")
            },
        }

    one = ["source.ettl.bronze.x"]
    assert declared_row_rules(manifest(list(SILVER_RULES), one))["stg_x"].source == "x"
    undeclared = manifest(list(SILVER_RULES), one)
    undeclared["nodes"]["model.ettl.stg_x"] |= {"tags": ["daily"], "config": {"schema": "silver"}}
    assert undeclared_daily_silver_models(undeclared) == ["stg_x"]
    assert undeclared_daily_silver_models(manifest(list(SILVER_RULES), one)) == []
    with pytest.raises(ValueError, match="unknown row rule"):
        declared_row_rules(manifest(["duplicate", "null_key"], one))
    with pytest.raises(ValueError, match="one bronze source"):
        declared_row_rules(manifest(list(SILVER_RULES), [*one, "source.ettl.bronze.y"]))


def test_ledger_is_appended_and_read_back_latest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "ledger_dir", lambda: tmp_path / "reconciliation")
    first = [Entry("flights", D1, "silver", "stg_flights__flights", "rows", "silver_kept", None,
                   Decimal(3))]  # fmt: skip
    second = [Entry("flights", D1, "silver", "stg_flights__flights", "rows", "silver_kept", None,
                    Decimal(4))]  # fmt: skip
    store.append(first, "run-1", D1, D2, "silver")
    store.append(second, "run-2", D1, D2, "silver")
    ledger = store.read(D1, D1, "flights")
    assert sorted(ledger["run_id"]) == ["run-1", "run-2"]
    (latest,) = store.latest(ledger).itertuples()
    assert (latest.run_id, latest.amount) == ("run-2", Decimal("4.00"))
    assert store.read(D2, None).empty


def test_report_has_a_table_per_day_and_a_verdict():
    hop = ("weather", D1, "silver", "stg_weather__observations", "rows")
    entries = [
        Entry(*hop, "bronze_written", None, Decimal(72)),
        Entry(*hop, "dropped", "duplicate", Decimal(1)),
        Entry(*hop, "silver_kept", None, Decimal(71)),
        Entry(*hop, "unexplained", None, Decimal(0)),
    ]
    lines = report_lines(hops(entries))
    assert lines[0] == "2013-01-02"
    assert "duplicate 1" in lines[2] and lines[2].split()[-1] == "0"
    assert lines[-1] == "every row accounted for: 1 hop(s) over 1 day(s)"


def test_run_window_from_range_and_single_partition_tags():
    class Run:
        def __init__(self, tags):
            self.tags = tags

    range_tags = {"dagster/asset_partition_range_start": "2013-01-02",
                  "dagster/asset_partition_range_end": "2013-01-08"}  # fmt: skip
    assert run_window(Run(range_tags)) == (D1, date(2013, 1, 9))
    assert run_window(Run({"dagster/partition": "2013-01-02"})) == (D1, D2)
    assert run_window(Run({})) is None


def test_the_models_write_their_counts_where_the_step_says():
    """The dbt step names the counts' folder in ROW_RULE_COUNTS_ENV; the macros must read that
    very name (a typo would leave the test with nothing to compare, and it would always pass)."""
    macro = MODELS_DIR.parents[1] / "macros" / "row_rules.sql"
    assert f"env_var('{ROW_RULE_COUNTS_ENV}'" in macro.read_text()


def test_the_models_count_their_rules_only_in_a_run_with_the_ledgers_checks():
    silver = dg.AssetKey(["silver", "stg_weather__observations"])
    ledger = dg.AssetCheckKey(silver, "weather_rows_reconciled")
    other = dg.AssetCheckKey(silver, "unique_stg_weather__observations_observation_id")
    assert ledger_checks_selected([other, ledger])
    assert not ledger_checks_selected([other])


def test_the_silver_ledger_reads_bronze_footers_the_models_counts_and_silver(data_dir, tmp_path):
    rules = RowRules("flights", "stg_flights__flights", ("k",), "flight_date", DROPS)
    for day, rows in ((D1, 5), (D2, 2)):
        path = daily_partition_dir("flights", str(day)) / DATA_FILE_NAME
        path.parent.mkdir(parents=True)
        pq.write_table(pa.table({"k": list(range(rows))}), path)
    counts = tmp_path / "counts"
    counts.mkdir()
    counted = {"day": [D1, D2], "duplicate": [1, 0], "outside_window": [1, 0],
               "filed_under_other_day": [1, -1]}  # fmt: skip
    pq.write_table(pa.table(counted), counts / "part-0.parquet")
    silver = ModelTable("silver.stg_flights__flights", "silver", "stg_flights__flights",
                        "flight_date")  # fmt: skip
    _write_daily(silver, {"flight_date": [str(D1)] * 2 + [str(D2)] * 3, "v": [1, 2, 3, 4, 5]})
    plan = SilverPlan(rules, {D1: BronzeDay(6, 1)})

    entries = silver_ledger(plan, silver, counts, D1, D3)

    amounts = {(e.day, e.tier, e.hop, e.rule): e.amount for e in entries}
    assert amounts[(D1, "silver", "bronze_written", None)] == 5
    assert amounts[(D1, "silver", "dropped", "filed_under_other_day")] == 1
    assert amounts[(D1, "silver", "silver_kept", None)] == 2
    assert amounts[(D2, "silver", "silver_kept", None)] == 3
    assert not unexplained(entries)  # D1: 5 = (1 + 1 + 1) + 2; D2: 2 = (0 + 0 - 1) + 3
    assert (D2, "bronze", "delivered", None) not in amounts  # bronze reported nothing for D2


def _write_daily(table: ModelTable, rows: dict) -> None:
    pq.write_to_dataset(pa.table(rows), table.path, partition_cols=[table.partition_column])


def test_the_gold_ledger_reads_a_long_window_in_spans_but_matches_keys_over_all_of_it(data_dir):
    """fct_daily_flight_fares joins bookings to flights over the run's whole window, so a
    booking whose flight is dated in another span of the ledger's reads is matched, not
    dropped; one whose flight is nowhere in the window is dropped. Counted by hand."""
    start, end = date(2013, 1, 1), date(2013, 3, 1)
    assert len(list(_spans(start, end, SPAN_DAYS))) == 2  # the window is read in two spans
    tables = {name: ModelTable(name, schema, name, "flight_date") for schema, name in
              (("silver", "stg_flights__flights"), ("silver", "stg_passengers__bookings"),
               ("gold", "fct_daily_flight_fares"))}  # fmt: skip
    _write_daily(
        tables["stg_flights__flights"],
        {"flight_id": ["f1", "f2"], "flight_date": ["2013-01-05", "2013-02-10"]},
    )
    money = pa.decimal128(10, 2)
    _write_daily(tables["stg_passengers__bookings"], {
        "flight_id": ["f2", "f2", "f9"],  # f2 flies on 02-10, f9 never
        "fare_paid_usd": pa.array([Decimal("50.00"), Decimal("70.00"), Decimal("9.00")], money),
        "flight_date": ["2013-01-31", "2013-02-10", "2013-01-05"],
    })  # fmt: skip
    _write_daily(tables["fct_daily_flight_fares"], {
        "bookings": [1, 1],
        "revenue_usd": pa.array([Decimal("50.00"), Decimal("70.00")], money),
        "flight_date": ["2013-01-31", "2013-02-10"],
    })  # fmt: skip

    entries = gold_ledger(tables, start, end, {"fct_daily_flight_fares"})
    amounts = {(str(e.day), e.measure, e.hop): e.amount for e in entries}
    assert amounts[("2013-01-31", "bookings", "dropped")] == 0  # matched across the spans
    assert amounts[("2013-01-05", "bookings", "dropped")] == 1
    assert amounts[("2013-01-05", "revenue_usd", "dropped")] == Decimal("9.00")
    assert amounts[("2013-02-10", "revenue_usd", "gold")] == Decimal("70.00")
    assert unexplained(entries) == []
