import dagster as dg
import pytest

from ettl.backfill import tier_backfill
from ettl.planner import Change, minimal_backfill
from ettl.selection import downstream
from ettl_assets.definitions import defs
from ettl_assets.tiers import tiers_from

GRAPH = defs.resolve_asset_graph()


def keys(*names: str) -> set[dg.AssetKey]:
    return {dg.AssetKey(name.split("/")) for name in names}


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("bronze", {"bronze", "silver", "gold"}), ("silver", {"silver", "gold"}), ("gold", {"gold"})],
)
def test_a_tier_backfill_selects_that_tier_and_those_below_only(tier, expected):
    backfill = tier_backfill(GRAPH, tier, "2013-01-05", "2013-01-20")
    assert {key.path[0] for key in backfill.asset_keys} == expected
    assert set(tiers_from(tier)) == expected
    assert "--partition-range 2013-01-05...2013-01-20" in backfill.command_line()
    daily = [line for line in backfill.describe(GRAPH) if "daily partition" in line]
    assert daily and all("16 daily partition(s) 2013-01-05..2013-01-20" in line for line in daily)


def test_a_backfill_window_must_not_be_reversed():
    with pytest.raises(ValueError, match="after end"):
        tier_backfill(GRAPH, "gold", "2013-01-20", "2013-01-05")


def test_downstream_of_a_silver_model_is_it_the_gold_built_on_it_and_the_report():
    found = downstream(GRAPH, [dg.AssetKey(["silver", "stg_weather__observations"])])
    assert found == keys(
        "silver/stg_weather__observations", "gold/fct_hourly_weather_delays", "reports/gold_report"
    )


def test_downstream_of_a_gold_mart_is_itself_and_the_report():
    found = downstream(GRAPH, [dg.AssetKey(["gold", "fct_daily_route_delays"])])
    assert found == keys("gold/fct_daily_route_delays", "reports/gold_report")


def test_a_plan_rebuilds_tier_tables_never_the_report():
    changed = dg.AssetKey(["gold", "dim_carriers"])  # unpartitioned, under the report
    with dg.DagsterInstance.ephemeral() as instance:  # nothing built: no days to backfill
        plan = minimal_backfill(GRAPH, instance, [Change(changed, "SQL changed")])
    assert set(plan.asset_keys) == keys("gold/dim_carriers")
