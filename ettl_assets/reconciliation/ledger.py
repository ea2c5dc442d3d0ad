"""The ledger's rows, assembled outside Spark: from Parquet footers, the counts bronze reported
and the silver rules' counts each model wrote with its own SQL (docs/reconciliation.md).

Per source and day, each hop in the order rows travel:
    bronze   delivered = quarantined + bronze_written
    silver   bronze_written = dropped by each silver rule + silver_kept
    gold     silver = dropped by each gold rule + gold            (per fact and measure)
`unexplained` is what is left of each equation: anything but 0 fails the tier's check.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ettl_assets.reconciliation.rules import CarryOver
from ettl_assets.transform.row_counts import ModelTable, window_filter

UNEXPLAINED = "unexplained"
# The hops that come in and go out of each tier; the rules take rows away in between.
HOPS = {
    "bronze": ("delivered", "bronze_written"),
    "silver": ("bronze_written", "silver_kept"),
    "gold": ("silver", "gold"),
}
QUARANTINED = "quarantined"  # bronze's one rule: rows the reader rejected, kept with a reason
REJECTED_BY_READER = "rejected_by_reader"
DROPPED = "dropped"


@dataclass(frozen=True)
class Entry:
    """One ledger row: an amount at a hop of a tier, for a source, day, asset and measure."""

    source: str
    day: date
    tier: str
    asset: str
    measure: str
    hop: str
    rule: str | None
    amount: Decimal


def _entries(
    source: str, day: date, tier: str, asset: str, measure: str,
    came_in: Decimal, dropped: Mapping[str, Decimal], went_out: Decimal,
) -> list[Entry]:  # fmt: skip
    """A hop's rows, its unexplained difference last."""
    first, last = HOPS[tier]
    rows = [Entry(source, day, tier, asset, measure, first, None, came_in)]
    rule_hop = QUARANTINED if tier == "bronze" else DROPPED
    rows += [Entry(source, day, tier, asset, measure, rule_hop, rule, amount)
             for rule, amount in dropped.items()]  # fmt: skip
    rows.append(Entry(source, day, tier, asset, measure, last, None, went_out))
    left = came_in - sum(dropped.values(), Decimal(0)) - went_out
    rows.append(Entry(source, day, tier, asset, measure, UNEXPLAINED, None, left))
    return rows


@dataclass(frozen=True)
class SilverDay:
    """What the silver rules make of one day: bronze rows of its delivery, the rows each rule
    takes away, and so the rows silver must hold for the day."""

    bronze_written: int
    dropped: dict[str, int]

    @property
    def expected_kept(self) -> int:
        return self.bronze_written - sum(self.dropped.values())


def silver_days(
    written: Mapping[date, int],
    dropped: Mapping[date, Mapping[str, int]],
    drops: tuple[str, ...],
    kept_days: Iterable[date],
) -> dict[date, SilverDay]:
    """Each day any count names: the bronze rows of its delivery (`written`), and what each
    declared rule (`drops`) took from it, 0 when the model counted nothing for the day."""
    days = set(written) | set(dropped) | set(kept_days)
    return {
        day: SilverDay(
            written.get(day, 0), {rule: int(dropped.get(day, {}).get(rule) or 0) for rule in drops}
        )
        for day in sorted(days)
    }


@dataclass(frozen=True)
class BronzeDay:
    """What the bronze asset reported for a day's delivery (its materialization metadata)."""

    delivered: int
    quarantined: int


def silver_entries(
    source: str,
    model: str,
    days: Mapping[date, SilverDay],
    kept: Mapping[date, int],
    reported: Mapping[date, BronzeDay],
) -> list[Entry]:
    """The bronze and silver hops of one source, per day. `kept`: the rows silver holds per day
    (Parquet footers), `reported`: bronze's counts per day (a day without is left out)."""
    entries: list[Entry] = []
    for day, silver in sorted(days.items()):
        written = Decimal(silver.bronze_written)
        if (bronze := reported.get(day)) is not None:
            rejected = {REJECTED_BY_READER: Decimal(bronze.quarantined)}
            entries += _entries(source, day, "bronze", source, "rows",
                                Decimal(bronze.delivered), rejected, written)  # fmt: skip
        entries += _entries(source, day, "silver", model, "rows", written,
                            {rule: Decimal(n) for rule, n in silver.dropped.items()},
                            Decimal(kept.get(day, 0)))  # fmt: skip
    return entries


def table_dataset(table: ModelTable) -> ds.Dataset | None:
    """A daily model's Parquet files (listing them takes ~0.1 s at a year of partitions); None
    when no run has written a file yet."""
    dataset = ds.dataset(table.path, format="parquet", partitioning="hive")
    return dataset if dataset.files else None


def read_window(
    table: ModelTable, start: date, end: date, columns: list[str], dataset: ds.Dataset | None = None
) -> pa.Table | None:
    """Columns of a daily model's rows in [start, end), its date column as a date (from
    `dataset`, its files listed before, if given); None when no run has written a file yet."""
    if dataset is None:
        dataset = table_dataset(table)
    if dataset is None:
        return None
    date_column = table.partition_column
    found = dataset.to_table(
        columns=list(dict.fromkeys([date_column, *columns])),
        filter=window_filter(table, start.isoformat(), end.isoformat()),
    )
    index = found.schema.get_field_index(date_column)
    dates = pc.cast(pc.cast(found[date_column], pa.string()), pa.date32())
    return found.set_column(index, date_column, dates)


def day_totals(table: pa.Table | None, date_column: str, column: str | None) -> dict[date, Decimal]:
    """Rows per day (column None) or the sum of a column per day."""
    if table is None or table.num_rows == 0:
        return {}
    measure = ([], "count_all") if column is None else (column, "sum")
    grouped = table.group_by(date_column).aggregate([measure]).to_pylist()
    name = "count_all" if column is None else f"{column}_sum"
    return {row[date_column]: Decimal(str(row[name] or 0)) for row in grouped}


def carry_over_entries(
    carry: CarryOver,
    silver: pa.Table | None,
    gold: pa.Table | None,
    matched_keys: pa.Array | None,
    start: date,
    end: date,
) -> list[Entry]:
    """A gold fact's measure against its silver model, per day of [start, end) either holds.
    `matched_keys`: the keys of `carry.without_match`'s model in the run's window."""
    dropped_by_day: dict[date, Decimal] = {}
    if carry.without_match is not None and silver is not None:
        _, _, key = carry.without_match
        # Arrow arrays throughout: a year at 30x flights is 10 M keys, ~3 GiB as Python strings.
        keys = matched_keys if matched_keys is not None else pa.array([], silver[key].type)
        unmatched = silver.filter(pc.invert(pc.is_in(silver[key], value_set=keys)))
        dropped_by_day = day_totals(unmatched, carry.date_column, carry.silver_column)
    came_in = day_totals(silver, carry.date_column, carry.silver_column)
    went_out = day_totals(gold, carry.date_column, carry.gold_column)
    entries = []
    for day in sorted(set(came_in) | set(went_out)):
        if not start <= day < end:
            continue
        dropped = (
            {carry.without_match[0]: dropped_by_day.get(day, Decimal(0))}
            if carry.without_match
            else {}
        )
        came, went = came_in.get(day, Decimal(0)), went_out.get(day, Decimal(0))
        entries += _entries(carry.source, day, "gold", carry.fact, carry.measure,
                            came, dropped, went)  # fmt: skip
    return entries


def unexplained(entries: Iterable[Entry]) -> list[Entry]:
    return [e for e in entries if e.hop == UNEXPLAINED and e.amount != 0]
