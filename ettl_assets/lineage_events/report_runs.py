"""OpenLineage events of a report's materialization: gold tables in, the report file out."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
from openlineage.client.event_v2 import OutputDataset, RunState
from openlineage.client.facet_v2 import documentation_dataset

from ettl_assets.lineage_events.datasets import (
    FILE_NAMESPACE,
    input_table,
    owner_facet,
    table_name,
)
from ettl_assets.lineage_events.emitter import LineageEmitter
from ettl_assets.lineage_events.runs import AssetRun, job_facets, step_run_facets


def _report_file(path: Path, spec: dg.AssetSpec) -> OutputDataset:
    facets = {}
    if spec.owners:
        facets["ownership"] = owner_facet(spec.owners)
    if spec.description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=spec.description
        )
    return OutputDataset(namespace=FILE_NAMESPACE, name=str(path.resolve()), facets=facets)


def with_report_lineage(
    context: dg.AssetExecutionContext,
    reads: list[dg.AssetKey],
    path: Path,
    materialize: Callable[[], dg.MaterializeResult],
) -> dg.MaterializeResult:
    """Run `materialize` (rendering `path` from the `reads` tables) between a START and a
    COMPLETE (or FAIL), like every other materialization (lineage_events/)."""
    emitter = LineageEmitter(context.log)
    try:
        spec = context.assets_def.specs_by_key[context.asset_key]
        run = AssetRun(
            context.asset_key,
            job_facets(spec, integration="DAGSTER", job_type="ASSET"),
            step_run_facets(context),
        )
        inputs = [input_table(table_name(key), None) for key in reads]
        outputs = [_report_file(path, spec)]
    except Exception as exc:  # lineage must never fail the run
        context.log.warning(f"no OpenLineage events for {context.asset_key}: {exc!r}")
        return materialize()
    emitter.emit(run.event(RunState.START, inputs, outputs))
    try:
        result = materialize()
    except Exception as exc:
        emitter.emit(run.failed(exc, inputs, outputs))
        raise
    emitter.emit(run.event(RunState.COMPLETE, inputs, outputs))
    return result
