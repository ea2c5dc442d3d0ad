"""What a backfill touches: assets x partitions, and the equivalent Dagster command line."""

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl.selection import downstream
from ettl_assets.tiers import in_tiers, lineage_rank, tier_of_key, tiers_from

MATERIALIZE = "dagster asset materialize -m ettl_assets.definitions"


@dataclass(frozen=True)
class Backfill:
    """One run: `asset_keys`, daily ones for the partitions start..end (inclusive)."""

    asset_keys: tuple[dg.AssetKey, ...]
    start: str | None
    end: str | None

    def describe(self, graph: AssetGraph) -> list[str]:
        """One line per asset: its tier and what of it is rebuilt."""
        lines = []
        for key in self.asset_keys:
            partitions_def = graph.get(key).partitions_def
            if partitions_def is None or self.start is None or self.end is None:
                scope = "whole table (unpartitioned)"
            else:
                keys = partitions_def.get_partition_keys_in_range(
                    dg.PartitionKeyRange(self.start, self.end)
                )
                scope = f"{len(keys)} daily partition(s) {self.start}..{self.end}"
            lines.append(f"{tier_of_key(key):<7} {key.to_user_string():<45} {scope}")
        return lines

    def command_line(self) -> str:
        selection = ",".join(key.to_user_string() for key in self.asset_keys)
        line = f"{MATERIALIZE} --select '{selection}'"
        if self.start is not None:
            line += f" --partition-range {self.start}...{self.end}"
        return line


def sorted_keys(keys: Iterable[dg.AssetKey]) -> tuple[dg.AssetKey, ...]:
    """In lineage order of tiers, then by name."""
    return tuple(sorted(keys, key=lambda key: (lineage_rank(key), key.path)))


def tier_backfill(graph: AssetGraph, from_tier: str, start: str, end: str) -> Backfill:
    """`from_tier` and every tier below it, for start..end; upstream tiers are left alone."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    tiers = tiers_from(from_tier)
    keys = [key for key in graph.get_all_asset_keys() if tier_of_key(key) in tiers]
    return Backfill(sorted_keys(keys), start, end)


def asset_backfill(
    graph: AssetGraph, roots: Iterable[dg.AssetKey], start: str, end: str
) -> Backfill:
    """`roots` and the tier tables built from them, for start..end (a changed model needs what
    reads it rebuilt too; the gold report is left to `ettl run`, as in `ettl plan`)."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    roots = set(roots)
    keys = {key for key in downstream(graph, roots) if key in roots or in_tiers(key)}
    return Backfill(sorted_keys(keys), start, end)
