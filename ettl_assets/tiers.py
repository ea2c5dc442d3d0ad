"""The three tiers, in lineage order. A tier's name is its Dagster group and asset key prefix."""

import dagster as dg

TIERS = ("bronze", "silver", "gold")


def tiers_from(tier: str) -> tuple[str, ...]:
    """`tier` and every tier below it: what a logic change in `tier` must rebuild."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; one of {', '.join(TIERS)}")
    return TIERS[TIERS.index(tier) :]


def tier_of_key(key: dg.AssetKey) -> str:
    return key.path[0]
