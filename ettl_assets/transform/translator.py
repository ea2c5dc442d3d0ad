"""One rule maps every dbt node to Dagster: the folder under models/ is the tier.

models/<tier>/... -> group <tier>, asset key [<tier>, <name>]. Sources live in models/bronze/, so
a source's key is [bronze, <table>], the very key of the Python bronze asset that writes it:
the graph is one lineage from landing file to gold.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from ettl_assets.catalog import (
    DEFAULT_MODEL_SENSITIVITY,
    SENSITIVITIES,
    SENSITIVITY_TAG,
    SOURCE_SYSTEMS,
    TIER_TAG,
    freshness_policy,
    highest_sensitivity,
)
from ettl_assets.tiers import TIERS

DAILY_TAG = "daily"


def tier_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """The tier folder of a dbt node; fqn is [project, <folder under models/>, ..., name]."""
    fqn = dbt_resource_props["fqn"]
    tier = fqn[1] if len(fqn) > 2 else None
    if tier not in TIERS:
        raise ValueError(
            f"{dbt_resource_props['unique_id']} is not under models/<tier>/ "
            f"(one of {TIERS}); got fqn {fqn}"
        )
    return tier


class TieredTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # A source is keyed by its table (identifier): source('quarantine', 'flights') is
        # bronze/flights__quarantine, not the bronze/flights of source('bronze', 'flights').
        props = dbt_resource_props
        name = props["identifier"] if props["resource_type"] == "source" else props["name"]
        return dg.AssetKey([tier_of(props), name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return tier_of(dbt_resource_props)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """The catalog attributes every asset has (ettl_assets/catalog.py), for dbt models."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            return spec
        tier = tier_of(node)
        return spec.replace_attributes(
            freshness_policy=freshness_policy(tier, daily=DAILY_TAG in node["tags"]),
        ).merge_attributes(
            tags={TIER_TAG: tier, SENSITIVITY_TAG: model_sensitivity(node)},
            metadata={SOURCE_SYSTEMS: source_systems(manifest, unique_id)},
        )


def model_sensitivity(node: Mapping[str, Any]) -> str:
    """The most sensitive level declared on a model or its columns (`config.meta.sensitivity`)."""
    declared = [node["config"].get("meta", {}).get("sensitivity")]
    for column in node["columns"].values():
        meta = {**column.get("meta", {}), **(column.get("config") or {}).get("meta", {})}
        declared.append(meta.get("sensitivity"))
    levels = [level for level in declared if level is not None]
    unknown = sorted(set(levels) - set(SENSITIVITIES))
    if unknown:
        raise ValueError(f"{node['unique_id']}: unknown sensitivity {unknown}; use {SENSITIVITIES}")
    return highest_sensitivity(levels or [DEFAULT_MODEL_SENSITIVITY])


def source_systems(manifest: Mapping[str, Any], unique_id: str) -> list[str]:
    """The systems of every bronze source a model is built from, directly or not."""
    systems, pending, seen = set(), [unique_id], set()
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        if node_id in manifest["sources"]:
            ettl = manifest["sources"][node_id]["config"]["meta"].get("ettl") or {}
            if "system" in ettl:
                systems.add(ettl["system"])
        elif node_id in manifest["nodes"]:
            pending.extend(manifest["nodes"][node_id]["depends_on"]["nodes"])
    return sorted(systems)
