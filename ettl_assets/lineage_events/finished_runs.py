"""When a run's OpenLineage events are sent, and by whom: exactly once, after the run ends.

Two places see a run end, and each run is sent by exactly one of them, chosen when the run is
created (the `ettl/openlineage` run tag):
- a run `ettl` executes in its own process (ettl/launch.py, no daemon needed) is tagged
  `in-process`; `ettl` sends its events as soon as the run returns;
- every other run (launched by the daemon, the UI, a schedule, a sensor or a backfill, on a
  laptop with `dagster dev` or on Kubernetes) carries no tag, and the run status sensors below
  send it when the daemon sees it succeed, fail or get canceled.
Once sent, the tag becomes `sent`, and neither sends it again (a reset sensor cursor, a repeated
call). Deciding at creation rather than racing to claim a finished run means no two emitters
can ever both send one: Dagster run tags have no compare-and-set.

Not sent: a run started without a daemon by anything but `ettl` (`dagster asset materialize`
on the command line, `dg.materialize` in a test) and a run whose `ettl` process was killed
before it returned; `emit_run_lineage` sends such a run by hand.

Sending never fails a run: it happens after the run, and the emitter never raises.
"""

import logging
from typing import Any

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

from ettl_assets.lineage_events.emitter import LineageEmitter
from ettl_assets.lineage_events.run_events import run_events

EMITTER_TAG = "ettl/openlineage"
IN_PROCESS = "in-process"  # ettl's launcher executes the run and sends its events
SENT = "sent"
# The run ends the sensors watch: every way a run can finish.
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def emit_run_lineage(
    instance: dg.DagsterInstance,
    run_id: str,
    asset_graph: BaseAssetGraph,
    log: logging.Logger | Any,
    expected_tag: str | None = None,
) -> int:
    """Send the events of the finished run `run_id` if its emitter tag is `expected_tag` (None:
    untagged, the sensors' runs), then tag it sent. Returns how many events were sent. Never
    raises."""
    try:
        run = instance.get_run_by_id(run_id)
        if run is None or run.tags.get(EMITTER_TAG) != expected_tag:
            return 0  # another emitter's run, or sent already
        events = run_events(instance, run_id, asset_graph)
        emitter = LineageEmitter(log)
        for event in events:
            emitter.emit(event)
        instance.add_run_tags(run_id, {EMITTER_TAG: SENT})
        return len(events)
    except Exception as exc:
        log.warning(f"no OpenLineage events for run {run_id}: {exc!r}")
        return 0


def _sensor_for(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        run_status=status,
        name=f"openlineage_on_run_{status.value.lower()}",
        description=f"Sends the OpenLineage events of each run that ends {status.value} "
        "(ettl_assets/lineage_events/finished_runs.py).",
        # On by default: with a daemon, these sensors are the only way lineage is sent.
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def send_lineage(context: dg.RunStatusSensorContext) -> None:
        graph = context.repository_def.asset_graph
        emit_run_lineage(context.instance, context.dagster_run.run_id, graph, context.log)

    return send_lineage


def lineage_sensors() -> list[dg.SensorDefinition]:
    """One run status sensor per way a run ends."""
    return [_sensor_for(status) for status in FINISHED]
