"""Which bronze partitions a dbt step registers with Spark (macros/register_bronze_tables.sql).

Without this, every dbt invocation runs `recover partitions` on each daily bronze table: Spark
lists every partition folder and re-adds them all, 1-4 s per table of a year (measured in
docs/performance.md), in each dbt step of every run. A Dagster step knows what it reads: the
daily step the window's days, the reference step no daily partition at all. So it hands dbt,
in one environment variable, the partition folders that exist in its window, and the macro adds
those the metastore lacks. A table the macro creates (the first run, a contract change) is still
recovered whole, and dbt by hand (no variable) recovers every table as before.
"""

import json
from datetime import date, timedelta
from pathlib import Path

from ettl_assets.bronze.assets import daily_partition_dir
from ettl_assets.partitions import window_days

BRONZE_PARTITIONS_ENV = "ETTL_BRONZE_PARTITIONS"


def day_ranges(days: list[date]) -> list[list[str]]:
    """Consecutive days as [first, last] pairs (a year is one pair: the variable stays small)."""
    ranges: list[list[date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + timedelta(1) == day:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [[first.isoformat(), last.isoformat()] for first, last in ranges]


def window_partitions(bronze_dir: Path, window: dict[str, str] | None) -> dict[str, list]:
    """{table: day ranges} of the partition folders of each bronze table in the [start_date,
    end_date) window (transform/dbt_vars.py); none for no window (the reference step)."""
    if window is None or not bronze_dir.is_dir():
        return {}
    start, end = (date.fromisoformat(window[k]) for k in ("start_date", "end_date"))
    days, found = window_days(start, end), {}
    for table in sorted(p.name for p in bronze_dir.iterdir() if p.is_dir()):
        present = [d for d in days if daily_partition_dir(table, str(d), bronze_dir).is_dir()]
        if present:
            found[table] = day_ranges(present)
    return found


def bronze_partitions_environment(
    bronze_dir: Path, window: dict[str, str] | None
) -> dict[str, str]:
    """The dbt process's variable: the window's partition folders, as JSON."""
    partitions = window_partitions(bronze_dir, window)
    return {BRONZE_PARTITIONS_ENV: json.dumps(partitions, separators=(",", ":"))}
