"""`--source`: limit a run or backfill to chosen sources, and report the days they did not deliver.

A chosen source's scope is its bronze asset and everything downstream of it (Dagster's
AssetSelection.downstream()). A model that also reads another source is rebuilt too, from that
source's tables as they are: they are not touched by the run, so the result equals a full run's.
"""

from collections.abc import Iterable, Sequence

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl_assets.bronze.assets import NO_DELIVERY_LINE, bronze_key
from ettl_assets.bronze.delivery_report import DAYS_WITHOUT_DELIVERY
from ettl_assets.bronze.registry import SourceSpec


class UnknownSourceError(ValueError):
    """A --source names no registry entry; the message lists the sources."""


def assets_of_sources(
    graph: AssetGraph, specs: Sequence[SourceSpec], names: Iterable[str]
) -> set[dg.AssetKey]:
    """The bronze assets of the named sources and everything downstream of them."""
    by_name = {spec.name: spec for spec in specs}
    keys = []
    for name in names:
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise UnknownSourceError(f"no source {name!r}; sources: {known}")
        keys.append(bronze_key(by_name[name]))
    return set(dg.AssetSelection.assets(*keys).downstream().resolve(graph))


def no_delivery_lines(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """One line per source that delivered no file for some day of the run: "no delivery:
    weather 2013-01-05, 2013-01-06"."""
    missing: dict[str, list[str]] = {}
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        days = materialization.metadata.get(DAYS_WITHOUT_DELIVERY)
        if days is not None and days.value:  # a range run repeats it for every partition
            missing[materialization.asset_key.path[-1]] = list(days.value)
    return [
        f"{NO_DELIVERY_LINE} {name} {', '.join(days)}" for name, days in sorted(missing.items())
    ]
