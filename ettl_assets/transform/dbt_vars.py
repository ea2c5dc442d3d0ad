"""A Dagster run's partition window for dbt (docs/design-decisions.md#d3).

A range run has no single partition key, so the window always comes from the run's partition
time window; a partitioned run without one is an error, never "all dates".

It reaches dbt in environment variables, not `--vars`: new vars make dbt re-parse the whole
project, and a daily step's window is new every run (docs/design-decisions.md#d16). The macros
read them only when executing, so dbt's partial parse stays valid.
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


# Read by macros/partition_window.sql; `--vars '{start_date: ..., end_date: ...}'` (dbt by
# hand) takes precedence over them.
WINDOW_ENV = {"start_date": "ETTL_WINDOW_START", "end_date": "ETTL_WINDOW_END"}


def window_environment(window: dict[str, str]) -> dict[str, str]:
    """The dbt process's environment variables of a window from dbt_vars_for_window()."""
    return {WINDOW_ENV[name]: day for name, day in window.items()}
