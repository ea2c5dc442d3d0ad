"""Hand a backfill to Dagster: a PartitionBackfill in the instance, as the UI's "Launch backfill"
(GraphQL `launchPartitionBackfill`) records it. The instance's daemon then requests its runs
through the run queue and the run launcher (a pod per run on Kubernetes), tags them
`dagster/backfill=<id>`, and the UI lists it under Backfills.

Whether a daemon serves this instance is read from its heartbeats in the instance's storage, as
the UI's "Daemons" page does: without one, a submitted backfill would wait, REQUESTED, until one
starts.
"""

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph
from dagster._core.definitions.selector import (  # what GraphQL builds from its input
    PartitionRangeSelector,
    PartitionsByAssetSelector,
    PartitionsSelector,
)
from dagster._core.definitions.utils import (  # the UI's rules for titles
    MAX_TITLE_LENGTH,
    check_valid_title,
)
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id
from dagster._daemon.controller import get_daemon_statuses
from dagster._daemon.daemon import BackfillDaemon
from dagster._time import get_current_timestamp

from ettl.backfill import Backfill

# A daemon beats every 30 s. The UI calls it running until 30 minutes after its last beat; a
# backfill handed to a daemon stopped that long ago would only wait, so the CLI is stricter: a
# daemon serves the instance if it beat within the last 2.5 minutes (a busy one can be late).
HEARTBEAT_TOLERANCE_SECONDS = 120


def backfill_daemon_running(instance: dg.DagsterInstance) -> bool:
    """A daemon of this instance beat its backfill heartbeat lately (an error it reported does
    not stop it taking backfills, so errors are ignored)."""
    daemon_type = BackfillDaemon.daemon_type()
    status = get_daemon_statuses(
        instance,
        [daemon_type],
        ignore_errors=True,
        heartbeat_tolerance_seconds=HEARTBEAT_TOLERANCE_SECONDS,
    )[daemon_type]
    return bool(status.healthy)


def partitions_by_asset(graph: AssetGraph, backfill: Backfill) -> list[PartitionsByAssetSelector]:
    """Each asset with the backfill's days; an unpartitioned one whole (no selector)."""
    selectors = []
    for key in backfill.asset_keys:
        if graph.get(key).partitions_def is None:
            selectors.append(PartitionsByAssetSelector(asset_key=key, partitions=None))
        elif backfill.start is None or backfill.end is None:
            # Dagster would read "no partitions" as all of them: never what was planned.
            raise ValueError(f"{key.to_user_string()} is daily and the backfill has no days")
        else:
            days = PartitionsSelector(
                ranges=[PartitionRangeSelector(start=backfill.start, end=backfill.end)]
            )
            selectors.append(PartitionsByAssetSelector(asset_key=key, partitions=days))
    return selectors


def submit(instance: dg.DagsterInstance, graph: AssetGraph, backfill: Backfill, title: str) -> str:
    """Record `backfill` as a REQUESTED asset backfill of the instance; its id."""
    backfill_id = make_new_backfill_id()
    if len(title) > MAX_TITLE_LENGTH:  # many --asset names; the description has them all
        title = title[: MAX_TITLE_LENGTH - 3] + "..."
    record = PartitionBackfill.from_partitions_by_assets(
        backfill_id=backfill_id,
        asset_graph=graph,
        backfill_timestamp=get_current_timestamp(),
        tags={},
        dynamic_partitions_store=instance,
        partitions_by_assets=partitions_by_asset(graph, backfill),
        title=check_valid_title(title),
        description=backfill.command_line(),
        run_config=None,
    )
    instance.add_backfill(record)
    return backfill_id
