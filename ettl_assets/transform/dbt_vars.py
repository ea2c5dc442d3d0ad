"""dbt vars for a Dagster run's partition window (docs/design-decisions.md#d3).

A range run has no single partition key, so the window always comes from the run's partition
time window; a partitioned run without one is an error, never "all dates".
"""

from dagster import TimeWindow


def dbt_vars_for_window(window: TimeWindow | None) -> dict[str, str]:
    """{start_date, end_date} for the [start, end) window, as YYYY-MM-DD strings."""
    if window is None:
        raise ValueError("a daily dbt model was run without a partition window")
    start, end = window.start.date(), window.end.date()
    if start >= end:
        raise ValueError(f"empty partition window {start}..{end}")
    return {"start_date": start.isoformat(), "end_date": end.isoformat()}
