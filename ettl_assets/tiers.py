"""The three tiers, in lineage order. A tier's name is its Dagster group and asset key prefix."""

import dagster as dg

TIERS = ("bronze", "silver", "gold")


def tiers_from(tier: str) -> tuple[str, ...]:
    """`tier` and every tier below it: what a logic change in `tier` must rebuild."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; one of {', '.join(TIERS)}")
    return TIERS[TIERS.index(tier) :]


def tier_of_key(key: dg.AssetKey) -> str:
    """The first part of the key: a tier, or the group of what is built on gold (`reports`)."""
    return key.path[0]


def in_tiers(key: dg.AssetKey) -> bool:
    """A table of bronze, silver or gold, the things tier backfills and `ettl plan` rebuild.
    Reports are rendered from gold by `ettl run` and the daily schedule."""
    return tier_of_key(key) in TIERS


def lineage_rank(key: dg.AssetKey) -> int:
    """Tier order; what is built on gold (reports) after every tier."""
    return TIERS.index(tier_of_key(key)) if in_tiers(key) else len(TIERS)
