"""Which assets a command means: the name an operator typed, and what is downstream of assets.

Names: the full key (`gold/fct_daily_carrier_performance`) or, when only one asset has it, the
model name alone (`fct_daily_carrier_performance`). Downstream is Dagster's
`AssetSelection.downstream()`, the selection the UI and `dagster asset materialize` use.
"""

import difflib
from collections.abc import Iterable

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph


class UnknownAssetError(ValueError):
    """A name that is no asset, or more than one; the message lists the candidates."""


def resolve_asset(graph: AssetGraph, name: str) -> dg.AssetKey:
    """The asset `name` means: its full key, or a last key component only one asset has."""
    keys = graph.get_all_asset_keys()
    key = dg.AssetKey.from_user_string(name)
    if key in keys:
        return key
    same_name = sorted(k.to_user_string() for k in keys if k.path[-1] == name)
    if len(same_name) == 1:
        return dg.AssetKey.from_user_string(same_name[0])
    if same_name:
        raise UnknownAssetError(
            f"asset name {name!r} is ambiguous: {', '.join(same_name)}; give the full key"
        )
    every = sorted(k.to_user_string() for k in keys)
    close = difflib.get_close_matches(name, every + [k.path[-1] for k in keys], n=5, cutoff=0.6)
    if close:
        candidates = sorted({k for k in every if k in close or k.split("/")[-1] in close})
        raise UnknownAssetError(f"no asset {name!r}; did you mean: {', '.join(candidates)}")
    raise UnknownAssetError(f"no asset {name!r}; assets: {', '.join(every)}")


def downstream(graph: AssetGraph, roots: Iterable[dg.AssetKey]) -> set[dg.AssetKey]:
    """`roots` and every asset built from them."""
    roots = list(roots)
    if not roots:
        return set()
    return set(dg.AssetSelection.assets(*roots).downstream().resolve(graph))
