"""Did the platform and the baseline do the same work? Compare every table both sides wrote.

After each P3/P4 pair the bench reads, with pyarrow, the Parquet files of each silver and gold
table the hand-written PySpark job wrote (<out>/<tier>/<table>/) and the same table in the
platform's warehouse (<warehouse>/<tier>.db/<table>/), limited to the window's partitions for
a daily table, and compares:

- the row count of each partition (or of the whole table), and the column names;
- per column, its null count and a checksum: the sum of a float column
  (compared to 1e-9 relative: Spark may add a group's values in another order), and for every
  other type an order-independent sum of a 64-bit hash of each value as text (exact).

Any difference raises DifferentOutput naming the table, the figure and both values.
"""

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

FLOAT_TOLERANCE = 1e-9
HASH_MODULUS = 2**64


class DifferentOutput(Exception):
    """The two sides wrote different data; the message names the table and both values."""


@dataclass(frozen=True)
class Fingerprint:
    rows: dict[str, int]  # partition value (or "all") -> rows
    columns: dict[str, tuple[int, float | int]]  # column -> (nulls, checksum)
    float_columns: frozenset[str]


def _value_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def column_checksum(values: pa.ChunkedArray) -> float | int:
    """Sum of a float column; otherwise the count-weighted sum of each distinct value's hash."""
    if pa.types.is_floating(values.type):
        total = pc.sum(values).as_py()
        return 0.0 if total is None else total
    if pa.types.is_timestamp(values.type):  # INT96 or micros: the same instant, the same text
        values = values.cast(pa.timestamp("us", tz=values.type.tz))
    counts = pc.value_counts(pc.drop_null(values.cast(pa.string())))
    checksum = 0
    for value, count in zip(
        counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
    ):
        checksum = (checksum + _value_hash(value) * count) % HASH_MODULUS
    return checksum


def _read(directory: Path) -> pa.Table:
    # pyarrow skips files starting with "_" or "." (Spark's _SUCCESS and .crc files).
    return ds.dataset(directory, format="parquet").to_table()


def fingerprint(table_dir: Path, partition: str | None, days: list[str]) -> Fingerprint:
    """Of a table's files: the given days' partitions of a daily table, else every file."""
    if partition is None:
        parts = {"all": _read(table_dir)} if table_dir.is_dir() else {}
    else:
        found = [(day, table_dir / f"{partition}={day}") for day in days]
        parts = {day: _read(path) for day, path in found if path.is_dir()}
    rows = {key: part.num_rows for key, part in parts.items()}
    if not parts:
        return Fingerprint(rows, {}, frozenset())
    table = pa.concat_tables(parts.values(), promote_options="permissive")
    columns = {
        name: (table[name].null_count, column_checksum(table[name])) for name in table.column_names
    }
    floats = frozenset(f.name for f in table.schema if pa.types.is_floating(f.type))
    return Fingerprint(rows, columns, floats)


def differences(table: str, platform: Fingerprint, baseline: Fingerprint) -> list[str]:
    """Each figure that differs, as `<table> <figure>: platform X, baseline Y`."""
    found = []
    for key in sorted(platform.rows.keys() | baseline.rows.keys()):
        mine, theirs = platform.rows.get(key, 0), baseline.rows.get(key, 0)
        if mine != theirs:
            found.append(f"{table} rows ({key}): platform {mine}, baseline {theirs}")
    if platform.rows and baseline.rows and platform.columns.keys() != baseline.columns.keys():
        found.append(
            f"{table} columns: platform {sorted(platform.columns)}, "
            f"baseline {sorted(baseline.columns)}"
        )
    for column in sorted(platform.columns.keys() & baseline.columns.keys()):
        (nulls, mine), (their_nulls, theirs) = platform.columns[column], baseline.columns[column]
        if nulls != their_nulls:
            found.append(f"{table}.{column} nulls: platform {nulls}, baseline {their_nulls}")
        is_float = column in platform.float_columns or column in baseline.float_columns
        same = (
            math.isclose(mine, theirs, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
            if is_float
            else mine == theirs
        )
        if not same:
            found.append(f"{table}.{column} checksum: platform {mine}, baseline {theirs}")
    return found


def compare_outputs(
    warehouse: Path, baseline_out: Path, partition_of: dict[str, str], days: list[str]
) -> dict[str, int]:
    """Compare every table the baseline wrote under <out>/<tier>/ with the platform's; its
    rows per table. Raises DifferentOutput on the first table that differs (all its figures)."""
    rows = {}
    for table_dir in sorted(baseline_out.glob("*/*")):
        tier, name = table_dir.parent.name, table_dir.name
        platform_dir = warehouse / f"{tier}.db" / name
        if not platform_dir.is_dir():
            raise DifferentOutput(f"{tier}.{name}: written by the baseline, not by the platform")
        partition = partition_of.get(name)
        mine = fingerprint(platform_dir, partition, days)
        theirs = fingerprint(table_dir, partition, days)
        found = differences(f"{tier}.{name}", mine, theirs)
        if found:
            raise DifferentOutput("; ".join(found))
        rows[f"{tier}.{name}"] = sum(theirs.rows.values())
    return rows
