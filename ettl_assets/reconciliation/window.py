"""The ledger of one run's window [start, end), from what the steps already have.

- bronze: what each day's delivery held and how much was quarantined, as the bronze asset
  reported it (its materialization metadata in the event log): nothing is re-read;
- silver: the rules applied with pandas to the window's bronze files (one read per file, kept
  as key fingerprints: ledger.versions), and the rows silver holds per day from its Parquet
  footers;
- gold: per-day sums of the fact and of its silver model, with pyarrow over their partitions,
  a month at a time.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import pandas as pd
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
from ettl_assets.reconciliation.ledger import (
    BronzeDay,
    Entry,
    SilverDay,
    carry_over_entries,
    concat_versions,
    day_totals,
    read_window,
    silver_days_of_versions,
    silver_entries,
    table_dataset,
    versions,
)
from ettl_assets.reconciliation.rules import GOLD, SILVER, SilverRules
from ettl_assets.transform.row_counts import ModelTable

AUDIT_COLUMNS = ["_ingested_at", "_source_file"]
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


def read_versions(rules: SilverRules, days: list[date]) -> pd.DataFrame:
    """versions() of the source's bronze files of `days` (the days delivered), one day's file
    at a time: only the compact columns stay in memory, whatever the window."""
    parts = []
    for day in days:
        # By table name: without the registry, whose YAML takes ~0.7 s to parse.
        path = daily_partition_dir(rules.source, str(day)) / DATA_FILE_NAME
        if path.exists():
            frame = pq.read_table(path, columns=[*rules.columns, *AUDIT_COLUMNS]).to_pandas()
            parts.append(versions(rules, frame.assign(partition_date=day)))
    if not parts:
        empty = pd.DataFrame(columns=[*rules.columns, *AUDIT_COLUMNS, "partition_date"])
        return versions(rules, empty)
    return concat_versions(parts)


@dataclass(frozen=True)
class SilverPlan:
    """A source's silver rules applied to its bronze, before silver is built."""

    rules: SilverRules
    days: dict[date, SilverDay]
    reported: dict[date, BronzeDay]


def plan_silver(instance: dg.DagsterInstance, start: date, end: date) -> list[SilverPlan]:
    days = window_days(start, end)
    plans = []
    for rules in SILVER.values():
        rows = read_versions(rules, days)
        reported = bronze_reported(instance, rules.source, days)
        plans.append(SilverPlan(rules, silver_days_of_versions(rows, start, end), reported))
    return plans


def expected_rows(plans: list[SilverPlan]) -> dict[str, dict[str, int]]:
    """What each silver model must hold per day: the dbt var its `rows_reconciled` test reads."""
    return {
        plan.rules.model: {day.isoformat(): d.expected_kept for day, d in plan.days.items()}
        for plan in plans
    }


def silver_ledger(plan: SilverPlan, table: ModelTable, start: date, end: date) -> list[Entry]:
    """The plan against what silver now holds (counted from its Parquet footers)."""
    kept = day_totals(read_window(table, start, end, []), table.partition_column, None)
    return silver_entries(
        plan.rules, plan.days, {d: int(n) for d, n in kept.items()}, plan.reported
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
