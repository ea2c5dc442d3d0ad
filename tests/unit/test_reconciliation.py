"""The reconciliation ledger's rules and sums on small tables counted by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ettl_assets.reconciliation import store
from ettl_assets.reconciliation.checks import EXPECTED_ROWS_ENV, run_window
from ettl_assets.reconciliation.ledger import (
    BronzeDay,
    Entry,
    carry_over_entries,
    silver_days,
    silver_entries,
    unexplained,
)
from ettl_assets.reconciliation.report import failures, hops, report_lines
from ettl_assets.reconciliation.rules import GOLD, SILVER, SILVER_RULES
from ettl_assets.reconciliation.window import SPAN_DAYS, _spans, gold_ledger
from ettl_assets.transform.row_counts import ModelTable

D1, D2, D3 = date(2013, 1, 2), date(2013, 1, 3), date(2013, 1, 4)
EARLY = datetime(2013, 1, 2, 6, tzinfo=UTC)
LATE = datetime(2013, 1, 3, 6, tzinfo=UTC)
MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "silver"


def flight(name, delivered, ingested, carrier, number, day, hhmm=600):
    """A bronze flights row (`name` only labels it here)."""
    return {"name": name, "partition_date": delivered, "_ingested_at": ingested,
            "_source_file": f"flights/{delivered}.csv", "carrier": carrier, "flight": number,
            "origin": "JFK", "year": day.year if day else None, "month": day.month if day else None,
            "day": day.day if day else None, "sched_dep_time": hhmm}  # fmt: skip


def test_silver_rules_on_two_deliveries_counted_by_hand():
    # Window [D1, D3). k1 is delivered three times: twice in D1's file (once as a number, once
    # as a designator: the same flight to silver), then again, later, in D2's file: that last
    # version wins, so both D1 copies are duplicates. B and F move to the other day of the
    # window, C is dated outside it, N has no date at all.
    bronze = pd.DataFrame([
        flight("A", D1, EARLY, "UA", "1545", D1),
        flight("A'", D1, EARLY, "UA", "UA1545", D1),
        flight("B", D1, EARLY, "AA", "11", D2),
        flight("C", D1, EARLY, "AA", "12", date(2013, 1, 5)),
        flight("N", D1, EARLY, "AA", "13", None),
        flight("D", D2, LATE, "B6", "1", D2),
        flight("E", D2, LATE, " ua", "ua1545 ", D1),
        flight("F", D2, LATE, "B6", "2", D1),
    ])  # fmt: skip
    days = silver_days(SILVER["flights"], bronze, D1, D3)

    assert set(days) == {D1, D2}
    # D1: 5 written; A, A' duplicates; C, N outside; B out, E and F in (net -1): keeps E, F.
    assert days[D1].bronze_written == 5
    assert days[D1].dropped == {"duplicate": 2, "outside_window": 2, "filed_under_other_day": -1}
    assert days[D1].expected_kept == 2
    # D2: 3 written; E and F out, B in (net 1): keeps D and B.
    assert days[D2].bronze_written == 3
    assert days[D2].dropped == {"duplicate": 0, "outside_window": 0, "filed_under_other_day": 1}
    assert days[D2].expected_kept == 2


def test_ties_on_ingest_time_break_on_the_file_name_latest_first():
    # The same observation in two files ingested at the same instant: the later file name wins,
    # so the copy in D1's file is the duplicate, and D2's copy, dated D1, moves to D1.
    row = {"origin": "JFK", "time_hour": "2013-01-02 12:00:00", "year": 2013, "month": 1,
           "day": 2, "_ingested_at": LATE}  # fmt: skip
    bronze = pd.DataFrame([
        {**row, "partition_date": D1, "_source_file": "weather/2013-01-02.json"},
        {**row, "partition_date": D2, "_source_file": "weather/2013-01-03.json"},
    ])  # fmt: skip
    days = silver_days(SILVER["weather"], bronze, D1, D3)
    assert days[D1].dropped["duplicate"] == 1 and days[D1].expected_kept == 1
    assert days[D2].dropped == {"duplicate": 0, "outside_window": 0, "filed_under_other_day": 1}
    assert days[D2].expected_kept == 0


def test_silver_ledger_reports_what_no_rule_explains():
    bronze = pd.DataFrame([flight(str(n), D1, EARLY, "AA", str(n), D1) for n in range(4)])
    days = silver_days(SILVER["flights"], bronze, D1, D2)
    reported = {D1: BronzeDay(delivered=5, quarantined=1)}
    entries = silver_entries(SILVER["flights"], days, {D1: 3}, reported)  # silver lost a row

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


def test_every_daily_silver_model_names_the_rules_the_ledger_applies():
    for rules in SILVER.values():
        document = yaml.safe_load(
            (MODELS_DIR / rules.source / f"_{rules.source}__models.yml").read_text()
        )
        (model,) = [m for m in document["models"] if m["name"] == rules.model]
        (test,) = [t["rows_reconciled"] for t in model["data_tests"]
                   if isinstance(t, dict) and "rows_reconciled" in t]  # fmt: skip
        assert tuple(test["arguments"]["rules"]) == SILVER_RULES, rules.model


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


def test_the_silver_test_reads_the_expected_rows_from_the_variable_the_step_sets():
    """The dbt step passes the expected rows in EXPECTED_ROWS_ENV; the generic test must read
    that very name (a typo would leave it with nothing to compare, and it would always pass)."""
    test_sql = MODELS_DIR.parents[1] / "tests" / "generic" / "rows_reconciled.sql"
    assert f"env_var('{EXPECTED_ROWS_ENV}'" in test_sql.read_text()


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
