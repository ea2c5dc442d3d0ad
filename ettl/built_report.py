"""What an interrupted launch built and what it did not, per asset and partition, in a few lines.

The planned partitions are the window's days for a daily asset and the one table of an
unpartitioned one; built is what the launch's runs recorded a materialization for.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl.backfill import sorted_keys

if TYPE_CHECKING:  # launch imports the definitions; only its result type is needed here
    from ettl.launch import RunOutcome

WHOLE_TABLE = "(whole table)"


def planned_partitions(
    graph: AssetGraph, key: dg.AssetKey, start: str | None, end: str | None
) -> list[str | None]:
    partitions = graph.get(key).partitions_def
    if partitions is None or start is None or end is None:
        return [None]
    return list(partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)))


def built_partitions(
    instance: dg.DagsterInstance, run_ids: Iterable[str]
) -> dict[dg.AssetKey, set[str | None]]:
    found: dict[dg.AssetKey, set[str | None]] = {}
    for run_id in run_ids:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in records:
            event = record.event_log_entry.dagster_event
            found.setdefault(event.asset_key, set()).add(event.partition)
    return found


def spans(partitions: list[str | None]) -> str:
    """`2013-01-01..2013-01-03, 2013-01-05` for days; the whole table for no partition."""
    if partitions == [None]:
        return WHOLE_TABLE
    days = sorted(date.fromisoformat(p) for p in partitions if p is not None)
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def built_and_not_built(
    graph: AssetGraph,
    instance: dg.DagsterInstance,
    run_ids: Iterable[str],
    keys: Iterable[dg.AssetKey],
    start: str | None,
    end: str | None,
) -> list[str]:
    """One line per asset: `built`, `not built`, or both for a partly built one."""
    built = built_partitions(instance, run_ids)
    keys = sorted_keys(keys)
    width = max((len(k.to_user_string()) for k in keys), default=0)
    lines = []
    for key in keys:
        planned = planned_partitions(graph, key, start, end)
        done = [p for p in planned if p in built.get(key, set())]
        missing = [p for p in planned if p not in built.get(key, set())]
        name = key.to_user_string().ljust(width)
        if done:
            lines.append(f"built      {name}  {spans(done)}")
        if missing:
            lines.append(f"not built  {name}  {spans(missing)}")
    return lines


def interrupted_launch_report(
    runs: list["RunOutcome"], keys: Iterable[dg.AssetKey], start: str | None, end: str | None
) -> list[str]:
    """What `ettl run` / `ettl backfill` prints when Ctrl-C canceled one of its runs."""
    from ettl_assets.definitions import defs

    canceled = ", ".join(run.run_id for run in runs if run.canceled)
    lines = [f"ettl: interrupted; run {canceled} canceled, its steps stopped. Rerun the same "
             "command to build the rest."]  # fmt: skip
    with dg.DagsterInstance.get() as instance:
        graph, run_ids = defs.resolve_asset_graph(), [run.run_id for run in runs]
        built = built_and_not_built(graph, instance, run_ids, keys, start, end)
    return lines + [f"  {line}" for line in built]
