"""One rule maps every dbt node to Dagster: the folder under models/ is the tier.

models/<tier>/... -> group <tier>, asset key [<tier>, <name>]. Sources live in models/bronze/, so
a source's key is [bronze, <table>], the very key of the Python bronze asset that writes it:
the graph is one lineage from landing file to gold.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from ettl_assets.tiers import TIERS


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
