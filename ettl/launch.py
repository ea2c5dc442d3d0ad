"""Launch one Dagster run of chosen assets for a date range, through the project's instance.

This is what `dagster asset materialize --select ... --partition-range ...` does, plus run tags
(so backfills are labelled in the UI's run list) and a summary of what each tier wrote.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import (  # the tags the CLI sets for a range run
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ettl.interrupt import run_canceling_on_interrupt
from ettl.run_progress import LAUNCH_TAG, new_launch_id, watching
from ettl.run_reaper import repair
from ettl.selection import downstream
from ettl_assets.lineage_events.finished_runs import EMITTER_TAG, IN_PROCESS, emit_run_lineage
from ettl_assets.metadata import DURATION, ROWS_WRITTEN
from ettl_assets.tiers import TIERS, tier_of_key

BRONZE = TIERS[0]


def all_assets_job() -> dg.JobDefinition:
    """Module-level, so Dagster can rebuild the job in each step process (dg.reconstructable).

    The daily job selects every asset; a launch runs the chosen subset of it.
    """
    from ettl_assets.automation import all_tiers_daily_job
    from ettl_assets.definitions import defs

    return defs.resolve_job_def(all_tiers_daily_job.name)


@dataclass
class TierSummary:
    assets: int = 0
    rows: int = 0
    seconds: float = 0.0


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    seconds: float
    tiers: dict[str, TierSummary]
    materialized: set[dg.AssetKey]
    canceled: bool = False  # by Ctrl-C (interrupt.py)


def summarize_run(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[dict[str, TierSummary], set[dg.AssetKey]]:
    """Rows written and execution time per tier (from the run's materialization metadata), and
    the assets the run materialized."""
    tiers: dict[str, TierSummary] = defaultdict(TierSummary)
    seen: set[dg.AssetKey] = set()
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        summary = tiers[tier_of_key(materialization.asset_key)]
        if materialization.asset_key in seen:  # a range run repeats the metadata per partition
            continue
        seen.add(materialization.asset_key)
        summary.assets += 1
        metadata = materialization.metadata
        if ROWS_WRITTEN in metadata:
            summary.rows += int(metadata[ROWS_WRITTEN].value)
        if DURATION in metadata:
            summary.seconds += float(metadata[DURATION].value)
    return {tier: tiers[tier] for tier in TIERS if tier in tiers}, seen


def launch(
    asset_keys: Iterable[dg.AssetKey],
    start: str | None,
    end: str | None,
    tags: dict[str, str],
    label: str = "run",
) -> RunOutcome:
    """Run `asset_keys` for the partitions start..end (inclusive) as one run; wait for it,
    showing its assets materialized so far (`label` names the progress bar)."""
    keys = set(asset_keys)
    launch_id = new_launch_id()
    # This process sends the run's OpenLineage events when it returns (no daemon needed).
    run_tags = {**tags, LAUNCH_TAG: launch_id, EMITTER_TAG: IN_PROCESS}
    if start is not None and end is not None:
        run_tags[ASSET_PARTITION_RANGE_START_TAG] = start
        run_tags[ASSET_PARTITION_RANGE_END_TAG] = end
    began = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        for line in repair(instance):  # what killed runs hold would stall this one
            print(f"released from a killed run: {line}")
        with watching(launch_id, keys, label):
            result = run_canceling_on_interrupt(
                launch_id,
                lambda: dg.execute_job(
                    dg.reconstructable(all_assets_job),
                    instance=instance,
                    asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
                    tags=run_tags,
                ),
            )
        send_lineage(instance, result.run_id)
        tiers, materialized = summarize_run(instance, result.run_id)
        run = instance.get_run_by_id(result.run_id)
        return RunOutcome(
            run_id=result.run_id,
            success=result.success,
            seconds=time.monotonic() - began,
            tiers=tiers,
            materialized=materialized,
            canceled=run is not None and run.status == dg.DagsterRunStatus.CANCELED,
        )


def send_lineage(instance: dg.DagsterInstance, run_id: str) -> None:
    """The run's OpenLineage events (ettl_assets/lineage_events/finished_runs.py)."""
    from ettl_assets.definitions import defs

    log = logging.getLogger("ettl.lineage")  # warnings reach the terminal (logging's default)
    emit_run_lineage(instance, run_id, defs.resolve_asset_graph(), log, IN_PROCESS)


@dataclass
class IsolatedOutcome:
    """Bronze first, then everything downstream of the sources that landed."""

    runs: list[RunOutcome]
    failed_sources: list[dg.AssetKey]  # bronze assets that did not materialize
    blocked: list[dg.AssetKey]  # downstream of those, left for a later run

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)

    @property
    def canceled(self) -> bool:
        return any(run.canceled for run in self.runs)


def launch_isolating_sources(
    asset_keys: Iterable[dg.AssetKey],
    start: str | None,
    end: str | None,
    tags: dict[str, str],
) -> IsolatedOutcome:
    """Two runs, so one broken source does not stop the others' chains.

    In one Dagster run a failed bronze step abandons every step after it, and all silver and
    gold models of a partitions definition share one dbt step. So bronze runs alone first; the
    second run builds everything downstream except what depends on a source that failed.
    """
    from ettl_assets.definitions import defs

    keys = set(asset_keys)
    bronze = {key for key in keys if tier_of_key(key) == BRONZE}
    runs = [launch(bronze, start, end, tags, label="bronze run")] if bronze else []
    failed = sorted(bronze - runs[0].materialized, key=str) if bronze else []
    blocked = downstream(defs.resolve_asset_graph(), failed) & (keys - bronze)
    rest = keys - bronze - blocked
    if rest and not (runs and runs[0].canceled):
        runs.append(launch(rest, start, end, tags, label="downstream run"))
    return IsolatedOutcome(runs, failed, sorted(blocked, key=str))
