"""The ledger's rows, computed outside Spark: from bronze files, Parquet footers and the counts
bronze reported (docs/reconciliation.md).

Per source and day, each hop in the order rows travel:
    bronze   delivered = quarantined + bronze_written
    silver   bronze_written = dropped by each silver rule + silver_kept
    gold     silver = dropped by each gold rule + gold            (per fact and measure)
`unexplained` is what is left of each equation: anything but 0 fails the tier's check.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from pandas.api.types import is_numeric_dtype, union_categoricals

from ettl_assets.reconciliation.rules import (
    DUPLICATE,
    FILED_UNDER_OTHER_DAY,
    OUTSIDE_WINDOW,
    SILVER_RULES,
    CarryOver,
    SilverRules,
)
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


# Two 64-bit hashes of a row's key, seeded differently: a 128-bit fingerprint. Two different
# keys share one with a chance of about n^2 / 2^129 for n keys, none at any volume this runs on,
# and the rules for a year of 30x flights (10 M rows) peak at 1.65 GiB, not 6.44 GiB as Python
# strings (docs/reconciliation.md).
KEY_HASHES = {"key_hash_1": "ettl.ledger.key1", "key_hash_2": "ettl.ledger.key2"}  # 16 chars


def _day_numbers(values: pd.Series) -> np.ndarray:
    """Days since 1970 (float: NaN for a missing date)."""
    days = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(days), np.nan, days.astype("int64"))


def versions(rules: SilverRules, bronze: pd.DataFrame) -> pd.DataFrame:
    """What the silver rules need of bronze rows (`partition_date`, `_ingested_at`,
    `_source_file` and the rules' columns), compact, numbers only: the key's fingerprint, the
    day silver files the row under (NaN: none) and the day it was delivered, as days since
    1970, and its version's order (ingest time as an integer, the file name)."""
    key = rules.key(bronze)
    # A value hashes alike on every day: a day with a missing number has floats for ints.
    key = pd.DataFrame({
        name: part.astype("float64") if is_numeric_dtype(part) else part
        for name, part in key.items()
    })  # fmt: skip
    ingested = pd.to_datetime(bronze["_ingested_at"], utc=True).dt.as_unit("ns")
    columns = {
        column: pd.util.hash_pandas_object(key, index=False, hash_key=seed).to_numpy()
        for column, seed in KEY_HASHES.items()
    }
    columns |= {
        "filed": _day_numbers(rules.day(bronze)),
        "delivered": _day_numbers(bronze["partition_date"]),
        "ingested": ingested.astype("int64").to_numpy(),
        "source_file": pd.Categorical(bronze["_source_file"]),  # categories in name order
    }
    return pd.DataFrame(columns)


def concat_versions(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """versions() of several reads as one frame, `source_file` still a categorical whose
    categories are in name order (pd.concat would turn it into a Python string per row)."""
    files = union_categoricals([part["source_file"] for part in parts], sort_categories=True)
    numbers = pd.concat([part.drop(columns="source_file") for part in parts], ignore_index=True)
    return numbers.assign(source_file=files)


def _duplicates(rows: pd.DataFrame) -> np.ndarray:
    """Per row: an older version of a key another row holds. The latest ingested version wins,
    ties on ingest time break on the file name (latest first), then on the row's order. With
    numpy sorts: no hash table the size of the window."""
    count = len(rows)
    first, second = (rows[column].to_numpy() for column in KEY_HASHES)
    latest_first = np.lexsort(
        (np.arange(count), -rows["source_file"].cat.codes.to_numpy(dtype="int64"),
         -rows["ingested"].to_numpy())
    )  # fmt: skip
    rank = np.empty(count, dtype="int64")
    rank[latest_first] = np.arange(count)
    by_key = np.lexsort((rank, second, first))  # each key's versions together, latest first
    first, second = first[by_key], second[by_key]
    same_key = (first[1:] == first[:-1]) & (second[1:] == second[:-1])
    duplicate = np.zeros(count, dtype=bool)
    duplicate[by_key[1:]] = same_key
    return duplicate


def silver_days(
    rules: SilverRules, bronze: pd.DataFrame, start: date, end: date
) -> dict[date, SilverDay]:
    """Apply the rules to the bronze rows of the deliveries in [start, end) (`partition_date`
    a date, plus `_ingested_at`, `_source_file` and the rules' columns)."""
    return silver_days_of_versions(versions(rules, bronze), start, end)


def silver_days_of_versions(rows: pd.DataFrame, start: date, end: date) -> dict[date, SilverDay]:
    """silver_days on versions(): counts per delivery day, vectorized."""
    epoch = date(1970, 1, 1)
    first, last = (start - epoch).days, (end - epoch).days
    is_duplicate = _duplicates(rows)
    filed, delivered = rows["filed"].to_numpy(), rows["delivered"].to_numpy()
    # A missing date (NaN) is outside, as NULL is not in the window in SQL.
    in_window = (filed >= first) & (filed < last)
    kept = ~is_duplicate & in_window
    moved = kept & (filed != delivered)  # kept, but under another day than its delivery's

    def per_day(flags: np.ndarray, by: np.ndarray) -> dict[date, int]:
        """How many rows of each day `by` (days since 1970) have the flag; 0s left out."""
        known = ~np.isnan(by)
        days = by[known].astype("int64")
        if not days.size:
            return {}
        low = int(days.min())
        counts = np.bincount(days - low, weights=flags[known])
        return {epoch + timedelta(low + int(i)): int(counts[i]) for i in np.flatnonzero(counts)}

    written = per_day(np.ones(len(rows), dtype=bool), delivered)
    duplicate = per_day(is_duplicate, delivered)
    outside = per_day(~is_duplicate & ~in_window, delivered)
    moved_out, moved_in = per_day(moved, delivered), per_day(moved, filed)
    days = {d for d in written if start <= d < end} | set(per_day(kept, filed))
    found = {
        day: SilverDay(
            written.get(day, 0),
            {
                DUPLICATE: duplicate.get(day, 0),
                OUTSIDE_WINDOW: outside.get(day, 0),
                FILED_UNDER_OTHER_DAY: moved_out.get(day, 0) - moved_in.get(day, 0),
            },
        )
        for day in sorted(days)
    }
    assert all(tuple(d.dropped) == SILVER_RULES for d in found.values())
    return found


@dataclass(frozen=True)
class BronzeDay:
    """What the bronze asset reported for a day's delivery (its materialization metadata)."""

    delivered: int
    quarantined: int


def silver_entries(
    rules: SilverRules,
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
            entries += _entries(rules.source, day, "bronze", rules.source, "rows",
                                Decimal(bronze.delivered), rejected, written)  # fmt: skip
        entries += _entries(rules.source, day, "silver", rules.model, "rows", written,
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
