"""The code location loads, and its asset graph is what the snapshot says.

The snapshot makes any change to keys, groups, dependencies, partitions or checks show up in
review. After an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py
"""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from ettl_assets.definitions import defs
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.translator import TieredTranslator, tier_of

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def describe_partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        # Open-ended partitions end at the last complete day: the end is whatever today makes
        # it, so the snapshot records that there is none (not today's date).
        start, end = partitions_def.start, partitions_def.end
        until = f"{end:%Y-%m-%d}" if end else "last complete day"
        return (
            f"{partitions_def.cron_schedule} {partitions_def.timezone} "
            f"{start:%Y-%m-%d}..{until} (end offset {partitions_def.end_offset})"
        )
    return type(partitions_def).__name__


def describe_asset_graph(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    checks_by_asset: dict[str, list[str]] = {}
    for check in graph.asset_check_keys:
        checks_by_asset.setdefault(check.asset_key.to_user_string(), []).append(check.name)
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assets[name] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": describe_partitions(node.partitions_def),
            "checks": sorted(checks_by_asset.get(name, [])),
        }
    return dict(sorted(assets.items()))


def test_definitions_load_with_the_three_tiers_and_the_reports_as_groups():
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {"bronze", "silver", "gold", "reports"}
    assert defs.resolve_job_def("__ASSET_JOB") is not None


def test_asset_graph_matches_snapshot():
    current = describe_asset_graph(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert SNAPSHOT.exists(), f"no snapshot yet: UPDATE_SNAPSHOTS=1 pytest {__file__}"
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_gold_asset_reaches_back_to_bronze():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] == "gold":
            upstream = graph.upstream_key_iterator(key)
            assert any(parent.path[0] == "bronze" for parent in upstream), key


def test_folder_is_the_tier_for_models_and_sources():
    assert tier_of({"unique_id": "m", "fqn": ["ettl", "silver", "flights", "stg_x"]}) == "silver"
    assert tier_of({"unique_id": "s", "fqn": ["ettl", "bronze", "bronze", "flights"]}) == "bronze"
    with pytest.raises(ValueError, match="not under models/<tier>/"):
        tier_of({"unique_id": "m", "fqn": ["ettl", "marts", "x"]})


def test_a_source_is_keyed_by_its_table_so_quarantine_never_shadows_bronze():
    translator = TieredTranslator()
    manifest = json.loads(dbt_project.manifest_path.read_text())
    keys = {
        (source["source_name"], source["name"]): translator.get_asset_key(source).to_user_string()
        for source in manifest["sources"].values()
    }
    assert keys[("bronze", "flights")] == "bronze/flights"
    assert keys[("quarantine", "flights")] == "bronze/flights__quarantine"
