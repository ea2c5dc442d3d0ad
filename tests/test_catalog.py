"""Every asset answers the catalog's questions: grain, owner, tier, source system, freshness."""

import dagster as dg
import pytest
from dagster._core.definitions.freshness import CronFreshnessPolicy, TimeWindowFreshnessPolicy

from ettl_assets.bronze.registry import load_registry
from ettl_assets.catalog import (
    DAILY_DEADLINE_CRON,
    SENSITIVITIES,
    SENSITIVITY_TAG,
    SOURCE_SYSTEMS,
    TIER_TAG,
)
from ettl_assets.definitions import defs
from ettl_assets.reports.gold_report import KEY as REPORT
from ettl_assets.tiers import in_tiers
from ettl_assets.transform.translator import model_sensitivity

GRAPH = defs.resolve_asset_graph()
KEYS = sorted(GRAPH.get_all_asset_keys(), key=str)
TABLES = [key for key in KEYS if in_tiers(key)]
SYSTEMS = {spec.system for spec in load_registry()}


def test_every_asset_is_a_tier_table_or_the_gold_report():
    assert set(KEYS) - set(TABLES) == {REPORT}


@pytest.mark.parametrize("key", TABLES, ids=lambda key: key.to_user_string())
def test_every_table_states_grain_owner_tier_source_system_and_freshness(key):
    node = GRAPH.get(key)
    assert node.description.startswith("One row per"), "the description states the grain"
    assert node.owners and all(o.startswith("team:") for o in node.owners)
    assert node.tags[TIER_TAG] == node.group_name == key.path[0]
    systems = node.metadata[SOURCE_SYSTEMS]
    assert systems and set(systems) <= SYSTEMS
    daily = node.partitions_def is not None
    expected = CronFreshnessPolicy if daily else TimeWindowFreshnessPolicy
    assert isinstance(node.freshness_policy, expected)


def test_the_gold_report_states_what_it_shows_owner_sources_and_a_daily_deadline():
    node = GRAPH.get(REPORT)
    assert node.group_name == "reports" and "on-time rate" in node.description
    assert node.owners == ["team:analytics"]
    # The flights and weather marts it reads carry carrier and airport names, not planes.
    assert node.metadata[SOURCE_SYSTEMS] == [
        "FAA airport list", "METAR weather feed", "carrier code list", "flight operations export",
    ]  # fmt: skip
    assert isinstance(node.freshness_policy, CronFreshnessPolicy)


def test_a_mart_names_every_source_system_it_is_built_from():
    systems = GRAPH.get(dg.AssetKey(["gold", "fct_hourly_weather_delays"])).metadata
    assert systems[SOURCE_SYSTEMS] == ["METAR weather feed", "flight operations export"]


def test_each_tier_is_due_after_the_one_it_reads():
    hour_minute = [
        tuple(reversed([int(p) for p in DAILY_DEADLINE_CRON[t].split()[:2]]))
        for t in ("bronze", "silver", "gold", "reports")
    ]
    assert hour_minute == sorted(hour_minute) and len(set(hour_minute)) == 4


def test_every_asset_carries_its_highest_sensitivity_as_a_tag():
    graph = defs.resolve_asset_graph()
    tags = {
        key.to_user_string(): graph.get(key).tags.get(SENSITIVITY_TAG)
        for key in graph.get_all_asset_keys()
    }
    assert set(tags.values()) <= set(SENSITIVITIES), tags
    # The bronze copy keeps names, e-mails and dates of birth; silver only their hashes.
    assert tags["bronze/passengers"] == "restricted"
    assert tags["bronze/flights"] == "public"
    assert tags["silver/stg_passengers__bookings"] == "internal"
    assert tags["gold/fct_daily_flight_fares"] == "internal"
    assert tags["reports/gold_report"] == "internal"


def model_node(model_level=None, **column_levels):
    columns = {
        name: {"name": name, "config": {"meta": {"sensitivity": level}}}
        for name, level in column_levels.items()
    }
    meta = {"sensitivity": model_level} if model_level else {}
    return {"unique_id": "model.ettl.m", "config": {"meta": meta}, "columns": columns}


def test_a_model_takes_the_highest_level_declared_on_it_or_its_columns():
    assert model_sensitivity(model_node()) == "internal"  # nothing declared
    assert model_sensitivity(model_node(a="public")) == "public"
    assert model_sensitivity(model_node("internal", a="public", b="pii")) == "pii"
    with pytest.raises(ValueError, match="unknown sensitivity.*secret"):
        model_sensitivity(model_node(a="secret"))
