"""Launch one Dagster run of chosen assets for a date range, through the project's instance.

This is what `dagster asset materialize --select ... --partition-range ...` does, plus run tags
(so backfills are labelled in the UI's run list) and a summary of what each tier wrote.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import (  # the tags the CLI sets for a range run
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ettl_assets.metadata import DURATION, ROWS_WRITTEN
from ettl_assets.tiers import TIERS, tier_of_key


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


def summarize_run(instance: dg.DagsterInstance, run_id: str) -> dict[str, TierSummary]:
    """Rows written and execution time per tier, from the run's materialization metadata."""
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
    return {tier: tiers[tier] for tier in TIERS if tier in tiers}


def launch(
    asset_keys: Iterable[dg.AssetKey],
    start: str | None,
    end: str | None,
    tags: dict[str, str],
) -> RunOutcome:
    """Run `asset_keys` for the partitions start..end (inclusive) as one run; wait for it."""
    run_tags = dict(tags)
    if start is not None and end is not None:
        run_tags[ASSET_PARTITION_RANGE_START_TAG] = start
        run_tags[ASSET_PARTITION_RANGE_END_TAG] = end
    began = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(all_assets_job),
            instance=instance,
            asset_selection=sorted(asset_keys, key=lambda k: k.to_user_string()),
            tags=run_tags,
        )
        return RunOutcome(
            run_id=result.run_id,
            success=result.success,
            seconds=time.monotonic() - began,
            tiers=summarize_run(instance, result.run_id),
        )
