"""OpenLineage events of a bronze materialization: landing files in, the bronze table out."""

from collections.abc import Callable

import dagster as dg
from openlineage.client.event_v2 import OutputDataset, RunEvent, RunState

from ettl_assets.bronze.landing_zone import LandingZone
from ettl_assets.bronze.registry import SourceSpec
from ettl_assets.bronze.table_columns import bronze_columns
from ettl_assets.lineage_events.datasets import landing_file, output_table, table_name
from ettl_assets.lineage_events.emitter import LineageEmitter
from ettl_assets.lineage_events.runs import AssetRun, job_facets, step_run_facets
from ettl_assets.metadata import ROWS_WRITTEN


def with_lineage(
    context: dg.AssetExecutionContext,
    spec: SourceSpec,
    days: list[str | None],
    materialize: Callable[[], dg.MaterializeResult],
) -> dg.MaterializeResult:
    """Run `materialize` (the ingest of `days`) between a START and a COMPLETE (or FAIL)."""
    emitter = LineageEmitter(context.log)
    try:
        run = BronzeRun(context, spec, days)
    except Exception as exc:  # lineage must never fail the run
        context.log.warning(f"no OpenLineage events for {spec.name}: {exc!r}")
        return materialize()
    emitter.emit(run.start())
    try:
        result = materialize()
    except Exception as exc:
        emitter.emit(run.failed(exc))
        raise
    emitter.emit(run.completed(result))
    return result


class BronzeRun:
    """The events of one bronze step: the landing files of its partitions in, the table out."""

    def __init__(
        self, context: dg.AssetExecutionContext, spec: SourceSpec, days: list[str | None]
    ) -> None:
        self.asset_spec = context.assets_def.specs_by_key[context.asset_key]
        zone = LandingZone.configured()
        files = [spec.landing_file(day) for day in days]
        self.inputs = [landing_file(zone.name(f)) for f in files if zone.fs.exists(zone.path(f))]
        self.table = table_name(context.asset_key)
        self.columns = bronze_columns(spec)
        self.run = AssetRun(
            context.asset_key,
            job_facets(self.asset_spec, integration="DAGSTER", job_type="ASSET"),
            step_run_facets(context),
        )

    def _output(self, rows: int | None = None) -> list[OutputDataset]:
        return [output_table(self.table, self.asset_spec, self.columns, rows)]

    def start(self) -> RunEvent:
        return self.run.event(RunState.START, self.inputs, self._output())

    def failed(self, error: Exception) -> RunEvent:
        return self.run.failed(error, self.inputs, self._output())

    def completed(self, result: dg.MaterializeResult) -> RunEvent:
        rows = (result.metadata or {}).get(ROWS_WRITTEN)  # a plain int: see rows_metadata()
        return self.run.event(RunState.COMPLETE, self.inputs, self._output(rows))
