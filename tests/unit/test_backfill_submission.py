"""`ettl backfill` / `ettl plan --apply` hand their backfill to Dagster when a daemon serves the
instance (or with --submit), and execute in process otherwise; assets are named by model or key.

Each test has its own instance (DAGSTER_HOME in tmp_path): the backfills it finds are its own.
"""

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._daemon.types import DaemonHeartbeat

from ettl import cli
from ettl.launch import RunOutcome
from ettl.selection import UnknownAssetError, resolve_asset
from ettl_assets.definitions import defs

GRAPH = defs.resolve_asset_graph()
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARRIER = dg.AssetKey(["gold", "fct_daily_carrier_performance"])


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as opened:
        yield opened


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The in-process launches, caught instead of executed (they would need Spark)."""
    launched: list[tuple] = []

    def launch(asset_keys, start, end, tags) -> RunOutcome:
        launched.append((tuple(asset_keys), start, end, tags))
        return RunOutcome("caught", success=True, seconds=0.0, tiers={}, materialized=set())

    monkeypatch.setattr("ettl.launch.launch", launch)
    monkeypatch.setattr(cli, "_print_no_delivery", lambda run_ids: None)
    return launched


def days(first: str, last: str) -> set[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {str(start + timedelta(n)) for n in range((end - start).days + 1)}


def targets(instance: dg.DagsterInstance) -> tuple[object, dict[dg.AssetKey, set[str | None]]]:
    """The instance's one backfill, and the partitions it targets per asset."""
    (backfill,) = instance.get_backfills()
    found: dict[dg.AssetKey, set[str | None]] = {}
    for target in backfill.asset_backfill_data.target_subset.iterate_asset_partitions():
        found.setdefault(target.asset_key, set()).add(target.partition_key)
    return backfill, found


# --- asset names ----------------------------------------------------------------------------------


def test_a_model_name_and_its_full_key_name_the_same_asset():
    assert resolve_asset(GRAPH, "fct_daily_carrier_performance") == CARRIER
    assert resolve_asset(GRAPH, "gold/fct_daily_carrier_performance") == CARRIER


def test_a_misspelt_name_is_refused_in_one_line_with_the_close_names():
    with pytest.raises(UnknownAssetError) as caught:
        resolve_asset(GRAPH, "fct_daily_carier_performance")
    assert str(caught.value) == (
        "no asset 'fct_daily_carier_performance'; did you mean: gold/fct_daily_carrier_performance"
    )


def test_a_name_like_no_asset_lists_every_asset():
    with pytest.raises(UnknownAssetError) as caught:
        resolve_asset(GRAPH, "zzz")
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("/") == len(GRAPH.get_all_asset_keys())


def test_a_name_two_assets_share_is_refused_listing_both_keys():
    @dg.asset(key=["silver", "orders"])
    def silver_orders() -> None: ...

    @dg.asset(key=["gold", "orders"], deps=[silver_orders])
    def gold_orders() -> None: ...

    graph = dg.Definitions(assets=[silver_orders, gold_orders]).resolve_asset_graph()
    with pytest.raises(UnknownAssetError, match=r"^asset name 'orders' is ambiguous: "
                       r"gold/orders, silver/orders; give the full key$"):  # fmt: skip
        resolve_asset(graph, "orders")
    assert resolve_asset(graph, "silver/orders") == dg.AssetKey(["silver", "orders"])


def test_lineage_takes_a_model_name_and_refuses_an_unknown_one(instance, capsys):
    assert cli.main(["lineage", "fct_daily_carrier_performance"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "gold/fct_daily_carrier_performance"
    assert cli.main(["lineage", "fct_daily_carier_performance"]) == 2
    assert capsys.readouterr().err == (
        "ettl: no asset 'fct_daily_carier_performance'; did you mean: "
        "gold/fct_daily_carrier_performance\n"
    )


def test_backfill_refuses_an_unknown_asset_before_touching_anything(instance, in_process):
    with pytest.raises(SystemExit, match="^ettl: no asset 'nope'; assets: bronze/airlines, "):
        cli.main(["backfill", "--asset", "nope", "--start", "2013-01-03", "--end", "2013-01-03"])
    assert in_process == [] and instance.get_backfills() == []


# --- submitted to Dagster ---------------------------------------------------------------------


def test_submit_records_a_requested_dagster_backfill_of_the_asset_and_its_days(
    instance, in_process
):
    argv = ["backfill", "--asset", "fct_daily_carrier_performance", "--submit",
            "--start", "2013-01-03", "--end", "2013-01-05"]  # fmt: skip
    assert cli.main(argv) == 0
    backfill, partitions = targets(instance)
    assert backfill.status == BulkActionStatus.REQUESTED
    # A gold mart: nothing but the gold report is built from it, and tier backfills leave the
    # report to `ettl run`.
    assert backfill.asset_selection == [CARRIER]
    assert partitions == {CARRIER: days("2013-01-03", "2013-01-05")}
    assert backfill.title == (
        "ettl backfill of gold/fct_daily_carrier_performance 2013-01-03..2013-01-05"
    )
    assert in_process == []


def test_a_submitted_tier_backfill_targets_the_tiers_days_and_its_whole_reference_tables(
    instance, in_process
):
    argv = ["backfill", "--from-tier", "silver", "--submit",
            "--start", "2013-01-06", "--end", "2013-01-07"]  # fmt: skip
    assert cli.main(argv) == 0
    backfill, partitions = targets(instance)
    below = {key for key in GRAPH.get_all_asset_keys() if key.path[0] in ("silver", "gold")}
    assert set(backfill.asset_selection) == below
    for key in below:
        daily = GRAPH.get(key).partitions_def is not None
        assert partitions[key] == (days("2013-01-06", "2013-01-07") if daily else {None}), key


def test_with_a_live_backfill_daemon_the_backfill_is_submitted_without_asking(
    instance, in_process, capsys
):
    instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "BACKFILL", "test-daemon", None))
    argv = ["backfill", "--from-tier", "gold", "--start", "2013-01-03", "--end", "2013-01-03"]
    assert cli.main(argv) == 0
    (backfill,) = instance.get_backfills()
    assert f"submitted Dagster backfill {backfill.backfill_id}" in capsys.readouterr().out
    assert in_process == []


def test_without_a_daemon_the_backfill_runs_in_process_with_dagsters_tags_only(
    instance, in_process, capsys
):
    # Stopped 10 minutes ago: the UI still says "running" (30 minutes), but it serves nothing.
    stale = time.time() - 600
    instance.add_daemon_heartbeat(DaemonHeartbeat(stale, "BACKFILL", "gone", None))
    argv = ["backfill", "--asset", "gold/fct_daily_carrier_performance",
            "--start", "2013-01-03", "--end", "2013-01-04"]  # fmt: skip
    assert cli.main(argv) == 0
    assert in_process == [((CARRIER,), "2013-01-03", "2013-01-04", {})]
    assert instance.get_backfills() == []
    assert "in this process (no Dagster daemon serves this instance" in capsys.readouterr().out


def test_in_process_wins_over_a_live_daemon_when_asked(instance, in_process):
    instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "BACKFILL", "test-daemon", None))
    argv = ["backfill", "--from-tier", "gold", "--in-process",
            "--start", "2013-01-03", "--end", "2013-01-03"]  # fmt: skip
    assert cli.main(argv) == 0
    assert len(in_process) == 1 and instance.get_backfills() == []


def test_status_lists_the_unfinished_backfill_and_whether_a_daemon_takes_it(instance, capsys):
    argv = ["backfill", "--from-tier", "gold", "--submit",
            "--start", "2013-01-03", "--end", "2013-01-03"]  # fmt: skip
    assert cli.main(argv) == 0
    (backfill,) = instance.get_backfills()
    capsys.readouterr()
    assert cli.main(["status"]) == 0
    section = capsys.readouterr().out.split("backfills:\n")[1].split("\n\n")[0].splitlines()
    assert section[0].strip().startswith("backfill daemon: not running")
    assert section[1].strip().startswith(f"{backfill.backfill_id}  REQUESTED")
    assert section[1].endswith("ettl backfill from tier gold 2013-01-03..2013-01-03")


def test_many_assets_fit_dagsters_title_limit_and_are_all_selected(instance, in_process):
    marts = ["fct_daily_carrier_performance", "fct_daily_flight_fares", "fct_daily_route_delays",
             "fct_hourly_weather_delays"]  # fmt: skip
    argv = ["backfill", "--submit", "--start", "2013-01-03", "--end", "2013-01-03"]
    assert cli.main(argv + [arg for mart in marts for arg in ("--asset", mart)]) == 0
    backfill, partitions = targets(instance)
    assert len(backfill.title) == 100 and backfill.title.endswith("...")  # Dagster's maximum
    assert set(partitions) == {dg.AssetKey(["gold", mart]) for mart in marts}


def test_plan_refuses_where_options_without_apply(instance):
    with pytest.raises(SystemExit, match="add --apply$"):
        cli.main(["plan", "--submit"])


def test_an_asset_no_chosen_source_feeds_is_refused_not_submitted_empty(instance, in_process):
    argv = ["backfill", "--asset", "fct_hourly_weather_delays", "--source", "passengers",
            "--submit", "--start", "2013-01-03", "--end", "2013-01-03"]  # fmt: skip
    with pytest.raises(SystemExit, match="^ettl: nothing to backfill: no asset of "
                       "gold/fct_hourly_weather_delays is built from passengers$"):  # fmt: skip
        cli.main(argv)
    assert instance.get_backfills() == [] and in_process == []
