"""The ledger of one run's window [start, end), from what the steps already have.

- bronze: what each day's delivery held and how much was quarantined, as the bronze asset
  reported it (its materialization metadata in the event log): nothing is re-read;
- silver: the rows of each day's bronze delivery and those silver holds per day, from their
  Parquet footers, and what each declared rule dropped, as the model counted it with its own
  SQL (macros/row_rules.sql) in the dbt step's directory;
- gold: per-day sums of the fact and of its silver model, with pyarrow over their partitions,
  a month at a time.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ettl_assets.bronze.assets import (
    DATA_FILE_NAME,
    DAY_ROWS_DELIVERED,
    DAY_ROWS_QUARANTINED,
    daily_partition_dir,
)
from ettl_assets.partitions import window_days
from ettl_assets.reconciliation.declarations import RowRules
from ettl_assets.reconciliation.ledger import (
    BronzeDay,
    Entry,
    carry_over_entries,
    day_totals,
    read_window,
    silver_days,
    silver_entries,
    table_dataset,
)
from ettl_assets.reconciliation.rules import GOLD
from ettl_assets.transform.row_counts import ModelTable

SPAN_DAYS = 31  # the gold ledger reads its tables a month at a time


def bronze_reported(
    instance: dg.DagsterInstance, source: str, days: list[date]
) -> dict[date, BronzeDay]:
    """Each day's counts from its latest bronze materialization (two event-log queries)."""
    key = dg.AssetKey(["bronze", source])
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION, {d.isoformat() for d in days}
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(latest.values())), limit=len(latest)
    ).records
    found = {}
    for record in records:
        materialization = record.asset_materialization
        metadata = materialization.metadata if materialization else {}
        if DAY_ROWS_DELIVERED in metadata and materialization.partition:
            found[date.fromisoformat(materialization.partition)] = BronzeDay(
                metadata[DAY_ROWS_DELIVERED].value, metadata[DAY_ROWS_QUARANTINED].value
            )
    return found


def bronze_rows(source: str, days: list[date]) -> dict[date, int]:
    """Rows of each day's bronze file, from its Parquet footer (a day without a file: none)."""
    found = {}
    for day in days:
        # By table name: without the registry, whose YAML takes ~0.7 s to parse.
        path = daily_partition_dir(source, str(day)) / DATA_FILE_NAME
        if path.exists():
            found[day] = pq.read_metadata(path).num_rows
    return found


def rule_counts(counts_dir: Path) -> dict[date, dict[str, int]]:
    """{delivery day: {rule: rows}} as a model wrote them (nothing: none written)."""
    if not counts_dir.is_dir():
        return {}
    rows = ds.dataset(counts_dir, format="parquet").to_table().to_pylist()
    return {row.pop("day"): row for row in rows}


@dataclass(frozen=True)
class SilverPlan:
    """A daily silver model's declared rules and what bronze reported, before silver is built."""

    rules: RowRules
    reported: dict[date, BronzeDay]


def plan_silver(
    instance: dg.DagsterInstance, declared: Mapping[str, RowRules], start: date, end: date
) -> list[SilverPlan]:
    days = window_days(start, end)
    return [
        SilverPlan(rules, bronze_reported(instance, rules.source, days))
        for rules in declared.values()
    ]


def silver_ledger(
    plan: SilverPlan, table: ModelTable, counts_dir: Path, start: date, end: date
) -> list[Entry]:
    """Bronze's rows per delivery day against what the declared rules dropped (the model's own
    counts, in `counts_dir`) and what silver now holds (its Parquet footers)."""
    written = bronze_rows(plan.rules.source, window_days(start, end))
    kept = day_totals(read_window(table, start, end, []), table.partition_column, None)
    days = silver_days(written, rule_counts(counts_dir), plan.rules.drops, kept)
    days = {day: counts for day, counts in days.items() if start <= day < end}
    return silver_entries(
        plan.rules.source,
        plan.rules.model,
        days,
        {d: int(n) for d, n in kept.items()},
        plan.reported,
    )


def gold_ledger(
    tables: Mapping[str, ModelTable], start: date, end: date, facts: set[str] | None = None
) -> list[Entry]:
    """Each gold fact's carried-over measures against its silver model, per day. Read a month
    at a time, so its memory does not grow with the window (a year at 30x flights: 0.83 GiB,
    5.75 GiB read whole)."""
    entries: list[Entry] = []
    spans = list(_spans(start, end, SPAN_DAYS))
    matched_keys: dict[tuple[str, ...], pa.Array | None] = {}  # once for every carry
    listed: dict[str, ds.Dataset | None] = {}  # each table's files, listed once for every carry

    def files(table: ModelTable) -> ds.Dataset | None:
        if table.name not in listed:
            listed[table.name] = table_dataset(table)
        return listed[table.name]

    for carry in GOLD:
        if facts is not None and carry.fact not in facts:
            continue
        silver_table, gold_table = tables[carry.silver_model], tables[carry.fact]
        silver_columns = [c for c in (carry.silver_column,) if c]
        matched = None
        if carry.without_match:
            _, model, key = carry.without_match
            silver_columns.append(key)
            join = (carry.silver_model, model, key)
            if join not in matched_keys:  # over the whole window, as the model joins
                matched_keys[join] = _matched_keys(silver_table, tables[model], key, spans, files)
            matched = matched_keys[join]
        for first, last in spans:
            silver = read_window(silver_table, first, last, silver_columns, files(silver_table))
            gold = read_window(gold_table, first, last, [carry.gold_column], files(gold_table))
            entries += carry_over_entries(carry, silver, gold, matched, first, last)
    return entries


def _matched_keys(
    table: ModelTable,
    looked_up: ModelTable,
    key: str,
    spans: list[tuple[date, date]],
    files: Callable[[ModelTable], ds.Dataset | None],
) -> pa.Array | None:
    """The distinct `key` values of the table's rows in the window's `spans` that `looked_up`
    also holds there: what an inner join over the window matches. Both read a span at a time
    (`files`: a table's listed files), and only the table's distinct keys are held, not the
    looked-up ones: a year at 30x flights holds 10 M flight keys (2.5 GiB measured, with their
    hash tables), against 0.3 M booked flights."""
    found = [
        rows[key].unique()
        for first, last in spans
        if (rows := read_window(table, first, last, [key], files(table))) is not None
    ]
    if not found:
        return None
    keys = pa.concat_arrays(found).unique()
    matched = pa.repeat(False, len(keys))
    for first, last in spans:
        rows = read_window(looked_up, first, last, [key], files(looked_up))
        if rows is not None:
            matched = pc.or_(matched, pc.is_in(keys, value_set=rows[key].combine_chunks()))
    return keys.filter(matched)


def _spans(start: date, end: date, days: int) -> Iterator[tuple[date, date]]:
    """[start, end) cut into consecutive [first, last) of at most `days` days."""
    first = start
    while first < end:
        last = min(first + timedelta(days=days), end)
        yield first, last
        first = last


def tables_by_name(tables: Mapping[dg.AssetKey, ModelTable]) -> dict[str, ModelTable]:
    return {table.name: table for table in tables.values()}
