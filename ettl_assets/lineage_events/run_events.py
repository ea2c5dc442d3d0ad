"""The OpenLineage events of a finished Dagster run, read from what the run recorded.

Each step that started is read from the run's event log: every asset it materialized gets a
START and a COMPLETE; if the step failed (or the run was canceled in it), every asset it was to
build and did not gets a START and a FAIL with the step's error. A step that never started (its
upstream failed) built nothing and gets no events.

What the events say comes from Dagster, not from the asset bodies:
- the asset's definition: owners, description, kinds (dbt or Python), partitions, parents, and
  its table (`dagster/table_name`, `dagster/column_schema` when the definition declares typed
  columns, as bronze does);
- its materialization: rows written, the columns of the table it wrote (dbt models), column
  lineage, the compiled SQL, the landing files read (bronze) or the file written (the report);
- the event times: COMPLETE when the materialization was recorded, START that much earlier than
  the duration it recorded (dbt's own timing of the model), else when the step started.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph, BaseAssetNode
from dagster._core.events.log import EventLogEntry
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, sql_job

from ettl_assets.lineage_events.datasets import (
    FILE_NAMESPACE,
    column_lineage_facet,
    described_by,
    input_table,
    landing_file,
    row_count,
    table_facets,
    table_name,
    warehouse_namespace,
)
from ettl_assets.lineage_events.runs import AssetRun, job_facets, nominal_time_facet, parent_facet
from ettl_assets.metadata import (
    COLUMN_LINEAGE,
    COLUMN_SCHEMA,
    COMPILED_SQL,
    DURATION,
    FILES_READ,
    PATH,
    ROWS_WRITTEN,
    TABLE_NAME,
)

DBT_KIND = "dbt"
# dagster-dbt's definition metadata: the manifest and the node of a dbt asset.
DBT_MANIFEST = "dagster_dbt/manifest"
DBT_UNIQUE_ID = "dagster_dbt/unique_id"
UNKNOWN_TYPE = "?"  # dagster-dbt's type of a column declared in YAML without one

EVENT_TYPES = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
}


def _at(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _value(metadata: Mapping[str, Any], key: str) -> Any:
    """A metadata entry's plain value (definition metadata may hold raw values)."""
    entry = metadata.get(key)
    return entry.value if isinstance(entry, dg.MetadataValue) else entry


def schema_columns(schema: dg.TableSchema | None) -> dict[str, str] | None:
    """A table schema's columns and types; None unless every column has a type."""
    if not isinstance(schema, dg.TableSchema) or not schema.columns:
        return None
    if any(not column.type or column.type == UNKNOWN_TYPE for column in schema.columns):
        return None
    return {column.name: column.type for column in schema.columns}


@dataclass
class StepRecord:
    """What the event log says about one step."""

    started_at: float
    succeeded: bool = False
    failure: EventLogEntry | None = None
    # Each asset's latest materialization in the step (a range run records one per partition,
    # all with the step's metadata), in the order the step built them.
    materialized: dict[dg.AssetKey, EventLogEntry] = field(default_factory=dict)


def read_steps(instance: dg.DagsterInstance, run_id: str) -> dict[str, StepRecord]:
    steps: dict[str, StepRecord] = {}
    for entry in instance.all_logs(run_id, of_type=EVENT_TYPES):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            steps[entry.step_key] = StepRecord(started_at=entry.timestamp)
            continue
        step = steps.setdefault(entry.step_key, StepRecord(started_at=entry.timestamp))
        if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            step.succeeded = True
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            step.failure = entry
        else:
            key = event.event_specific_data.materialization.asset_key
            step.materialized.pop(key, None)
            step.materialized[key] = entry
    return steps


def planned_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, list]:
    """The assets each step of the run was to materialize (its execution plan's outputs)."""
    if run.execution_plan_snapshot_id is None:
        return {}
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    selected = run.asset_selection or None  # empty: a job of its own assets (dg.materialize)
    planned: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for step in plan.steps:
        for output in step.outputs:
            props = output.properties
            if props is None or props.asset_key is None or props.asset_check_key is not None:
                continue
            if selected is None or props.asset_key in selected:
                planned[step.key].append(props.asset_key)
    return planned


def failure_message(step: StepRecord, run: dg.DagsterRun) -> tuple[str, str | None]:
    """The step's error (message, stack): the user's exception, not Dagster's wrapper."""
    if step.failure is None:  # started and never finished: the run was canceled or died
        return f"the run ended {run.status.value} before this step finished", None
    data = step.failure.dagster_event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description, data.error.to_string() if data.error else None
    error = data.error
    if error is None:
        return "step failed", None
    cause = error.cause or error
    return (cause.message.strip() or cause.cls_name or "step failed"), error.to_string()


class RunLineage:
    """The events of one finished run."""

    def __init__(
        self, instance: dg.DagsterInstance, run: dg.DagsterRun, asset_graph: BaseAssetGraph
    ) -> None:
        self.instance = instance
        self.run = run
        self.graph = asset_graph
        self._parent_columns: dict[dg.AssetKey, dict[str, str] | None] = {}

    def events(self) -> Iterable[RunEvent]:
        planned = planned_assets(self.instance, self.run)
        for step_key, step in read_steps(self.instance, self.run.run_id).items():
            for key, entry in step.materialized.items():
                yield from self.completed(key, entry, step)
            if step.succeeded:
                continue
            message, stack = failure_message(step, self.run)
            ended = step.failure.timestamp if step.failure else step.started_at
            for key in planned.get(step_key, []):
                if key not in step.materialized:
                    yield from self.failed(key, step, message, stack, ended)

    # ---- one asset -----------------------------------------------------------------------
    def node(self, key: dg.AssetKey) -> BaseAssetNode | None:
        return self.graph.get(key) if self.graph.has(key) else None

    def dataset_name(self, key: dg.AssetKey) -> str:
        """The Spark table of an asset: its definition's table name, else <tier>.<name>."""
        node = self.node(key)
        name = _value(node.metadata, TABLE_NAME) if node is not None else None
        return name or table_name(key)

    def table_columns(
        self, key: dg.AssetKey, recorded: Mapping[str, Any] | None
    ) -> dict[str, str] | None:
        """Columns of an asset's table: as its definition declares them, typed; else as its
        materialization `recorded` them (the latest one when not given)."""
        node = self.node(key)
        declared = schema_columns(_value(node.metadata, COLUMN_SCHEMA)) if node else None
        if declared is not None:
            return declared
        if recorded is None:
            latest = self.instance.get_latest_materialization_event(key)
            recorded = latest.asset_materialization.metadata if latest else {}
        return schema_columns(_value(recorded, COLUMN_SCHEMA))

    def is_dbt(self, node: BaseAssetNode) -> bool:
        return DBT_KIND in node.kinds

    def description(self, node: BaseAssetNode) -> str | None:
        """The asset's own description (dagster-dbt appends the raw SQL to a model's, and the
        SQL has its own facet)."""
        manifest = node.metadata.get(DBT_MANIFEST)
        unique_id = _value(node.metadata, DBT_UNIQUE_ID)
        if manifest is not None and unique_id:
            return manifest.manifest["nodes"][unique_id]["description"] or None
        return node.description

    def asset_run(self, key: dg.AssetKey, recorded: Mapping[str, Any]) -> AssetRun:
        node = self.node(key)
        owners, description = (node.owners, self.description(node)) if node else ([], None)
        dbt = node is not None and self.is_dbt(node)
        extra = {}
        if sql := _value(recorded, COMPILED_SQL):
            extra["sql"] = sql_job.SQLJobFacet(query=sql, dialect="spark")
        facets = job_facets(
            owners, description, "DBT" if dbt else "DAGSTER", "MODEL" if dbt else "ASSET", extra
        )
        run_facets: dict[str, RunFacet] = {"parent": parent_facet(self.run)}
        window = nominal_time_facet(self.run, node.partitions_def if node else None)
        if window is not None:
            run_facets["nominalTime"] = window
        return AssetRun(key, facets, run_facets)

    def inputs(self, key: dg.AssetKey, recorded: Mapping[str, Any]) -> list[InputDataset]:
        """The landing files it read, and the tables of its parents."""
        files = [landing_file(location) for location in _value(recorded, FILES_READ) or []]
        node = self.node(key)
        parents = sorted(node.parent_keys, key=lambda k: k.to_user_string()) if node else []
        for parent in parents:  # each parent's latest materialization is read once per run
            if parent not in self._parent_columns:
                self._parent_columns[parent] = self.table_columns(parent, None)
        tables = [
            input_table(self.dataset_name(parent), self._parent_columns[parent])
            for parent in parents
        ]
        return files + tables

    def output(self, key: dg.AssetKey, recorded: Mapping[str, Any], built: bool) -> OutputDataset:
        """Its table; or, for an asset with no table that recorded a file, that file."""
        node = self.node(key)
        owners, description = (node.owners, self.description(node)) if node else ([], None)
        path = _value(recorded, PATH)
        if path and (node is None or TABLE_NAME not in node.metadata):
            return OutputDataset(
                namespace=FILE_NAMESPACE, name=path, facets=described_by(owners, description)
            )
        name = self.dataset_name(key)
        if not built:  # nothing was written: no schema or row count to report
            return OutputDataset(namespace=warehouse_namespace(), name=name)
        facets = table_facets(self.table_columns(key, recorded), owners, description)
        lineage = _value(recorded, COLUMN_LINEAGE)
        if isinstance(lineage, dg.TableColumnLineage):
            facets["columnLineage"] = column_lineage_facet(lineage, self.dataset_name)
        rows = _value(recorded, ROWS_WRITTEN)
        return OutputDataset(
            namespace=warehouse_namespace(),
            name=name,
            facets=facets,
            outputFacets=row_count(int(rows) if rows is not None else None),
        )

    def completed(self, key: dg.AssetKey, entry: EventLogEntry, step: StepRecord) -> list[RunEvent]:
        recorded = entry.asset_materialization.metadata
        run = self.asset_run(key, recorded)
        inputs = self.inputs(key, recorded)
        duration = _value(recorded, DURATION)
        started = entry.timestamp - float(duration) if duration is not None else step.started_at
        return [
            run.event(RunState.START, inputs, [self.output(key, recorded, built=False)],
                      at=_at(started)),
            run.event(RunState.COMPLETE, inputs, [self.output(key, recorded, built=True)],
                      at=_at(entry.timestamp)),
        ]  # fmt: skip

    def failed(
        self, key: dg.AssetKey, step: StepRecord, message: str, stack: str | None, ended: float
    ) -> list[RunEvent]:
        node = self.node(key)
        run = self.asset_run(key, {})
        inputs = self.inputs(key, {})
        outputs = [self.output(key, {}, built=False)]
        language = "SQL" if node is not None and self.is_dbt(node) else "python"
        return [
            run.event(RunState.START, inputs, outputs, at=_at(step.started_at)),
            run.failed(message, stack, inputs, outputs, at=_at(ended), language=language),
        ]


def run_events(
    instance: dg.DagsterInstance, run_id: str, asset_graph: BaseAssetGraph
) -> list[RunEvent]:
    """Every OpenLineage event of the finished run `run_id`."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"no run {run_id} in this Dagster instance")
    return list(RunLineage(instance, run, asset_graph).events())
