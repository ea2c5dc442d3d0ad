"""`ettl plan`: what changed since each asset was last built, and the smallest backfill for it.

- dbt models: dbt's `state:modified` against the manifest recorded with the asset's last
  materialization (ettl_assets/transform/state.py).
- bronze assets: the Dagster code version recorded with the last materialization versus the
  current one (ettl_assets/bronze/assets.py: bronze_code_version).
A changed asset needs itself and everything downstream of it rebuilt, for the days it holds.
Only tier tables are planned: reports are re-rendered by `ettl run` and the daily schedule.
"""

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl.backfill import Backfill, sorted_keys
from ettl.selection import downstream
from ettl_assets.tiers import in_tiers, tier_of_key
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.state import STATE_METADATA_KEY, modified_models, why_modified

CODE_VERSION_TAG = "dagster/code_version"


@dataclass(frozen=True)
class Change:
    key: dg.AssetKey
    reason: str

    @property
    def tier(self) -> str:
        return tier_of_key(self.key)


def find_changes(graph: AssetGraph, instance: dg.DagsterInstance) -> list[Change]:
    changes = []
    dbt_keys_by_state: dict[Path, dict[str, dg.AssetKey]] = defaultdict(dict)
    for key in filter(in_tiers, graph.get_all_asset_keys()):
        event = instance.get_latest_materialization_event(key)
        if event is None:
            continue  # never built: nothing to bring in line
        materialization = event.asset_materialization
        state = materialization.metadata.get(STATE_METADATA_KEY)
        if state is not None:
            unique_id = materialization.metadata["unique_id"].value
            dbt_keys_by_state[Path(state.value)][unique_id] = key
        elif materialization.tags.get(CODE_VERSION_TAG) != graph.get(key).code_version:
            # Python assets; or dbt models built before their dbt state was recorded, where the
            # code version (the SQL checksum) is the best evidence there is.
            what = "bronze code or source contract" if tier_of_key(key) == "bronze" else "SQL"
            changes.append(Change(key, f"{what} changed (code version)"))
    for state_dir, keys_by_id in dbt_keys_by_state.items():
        for unique_id in modified_models(state_dir) & set(keys_by_id):
            reason = why_modified(unique_id, state_dir, dbt_project.manifest_path)
            changes.append(Change(keys_by_id[unique_id], reason))
    return sorted(changes, key=lambda change: change.key.to_user_string())


def minimal_backfill(
    graph: AssetGraph, instance: dg.DagsterInstance, changes: list[Change]
) -> Backfill | None:
    """The changed assets and their downstream, over the days any of them holds."""
    if not changes:
        return None
    keys = set(filter(in_tiers, downstream(graph, [change.key for change in changes])))
    days = set()
    for key in keys:
        if graph.get(key).partitions_def is not None:
            days |= set(instance.get_materialized_partitions(key))
    if not days:  # only unpartitioned assets were ever built
        unpartitioned = [key for key in keys if graph.get(key).partitions_def is None]
        return Backfill(sorted_keys(unpartitioned), None, None)
    return Backfill(sorted_keys(keys), min(days), max(days))
