"""OpenLineage events of the dbt models a dbt step ran: parents in, the model's table out, with
its compiled SQL and column lineage.

Emitted when dbt has finished, timed by run_results.json (what openlineage-dbt's `dbt-ol` does
too): the events carry when each model really started and ended. A model dbt skipped after an
upstream failure never ran, so it gets no run.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, column_lineage_dataset, sql_job

from ettl_assets.lineage_events.datasets import input_table, output_table, warehouse_namespace
from ettl_assets.lineage_events.emitter import LineageEmitter
from ettl_assets.lineage_events.runs import AssetRun, job_facets, step_run_facets
from ettl_assets.metadata import COLUMN_LINEAGE, ROWS_WRITTEN
from ettl_assets.transform.column_metadata import RelationColumns
from ettl_assets.transform.translator import TieredTranslator

FAILED_STATUSES = {"error", "fail", "runtime error"}


def emit_model_runs(
    context: dg.AssetExecutionContext,
    run_results: Mapping[str, Any],
    relations: RelationColumns,
    recorded: Mapping[str, Mapping[str, Any]],
) -> None:
    """START and COMPLETE or FAIL for every model dbt ran. `recorded` is the materialization
    metadata of each built model by unique_id. Never raises: lineage must not fail the run."""
    manifest = relations.manifest
    emitter = LineageEmitter(context.log)
    relation_names = relations_by_key(manifest)
    run_facets = step_run_facets(context)
    for result in run_results["results"]:
        node = manifest["nodes"].get(result["unique_id"])
        if node is None or node["resource_type"] != "model" or result["status"] == "skipped":
            continue
        try:
            key = TieredTranslator().get_asset_key(node)
            events = model_events(
                context.assets_def.specs_by_key[key], run_facets, relations, node, result,
                recorded.get(node["unique_id"], {}), relation_names,
            )  # fmt: skip
        except Exception as exc:
            context.log.warning(f"no OpenLineage events for {node['unique_id']}: {exc!r}")
            continue
        for event in events:
            emitter.emit(event)


def relations_by_key(manifest: Mapping[str, Any]) -> dict[dg.AssetKey, str]:
    """The Spark table (dbt relation name) of each dbt node's and source's asset key."""
    translator = TieredTranslator()
    return {
        translator.get_asset_key(props): props["relation_name"]
        for props in (*manifest["nodes"].values(), *manifest["sources"].values())
        if props.get("relation_name")
    }


def model_events(
    asset_spec: dg.AssetSpec,
    run_facets: dict[str, RunFacet],
    relations: RelationColumns,
    node: Mapping[str, Any],
    result: Mapping[str, Any],
    recorded: Mapping[str, Any],
    relation_by_key: Mapping[dg.AssetKey, str],
) -> list[RunEvent]:
    """START, then COMPLETE or FAIL, of one model as dbt's run_results reports it."""
    # The model's own description: dagster-dbt appends the raw SQL to the asset's, and the SQL
    # has its own facet.
    asset_spec = asset_spec.replace_attributes(description=node["description"] or None)
    sql = result.get("compiled_code") or node.get("compiled_code")
    extra = {"sql": sql_job.SQLJobFacet(query=sql, dialect="spark")} if sql else {}
    run = AssetRun(asset_spec.key, job_facets(asset_spec, "DBT", "MODEL", extra), run_facets)
    inputs = [_parent(relations, parent_id) for parent_id in node["depends_on"]["nodes"]]
    started, ended = _execution_times(result)
    output = OutputDataset(namespace=warehouse_namespace(), name=node["relation_name"])
    start = run.event(RunState.START, inputs, [output], at=started)
    if result["status"] in FAILED_STATUSES:
        message = result.get("message") or f"dbt status {result['status']}"
        return [start, run.failed(message, inputs, [output], at=ended, language="SQL")]
    lineage = recorded.get(COLUMN_LINEAGE)
    extra_facets = {}
    if isinstance(lineage, dg.TableColumnLineage):
        extra_facets["columnLineage"] = column_lineage_facet(lineage, relation_by_key)
    rows = recorded.get(ROWS_WRITTEN)
    columns = relations(node["unique_id"])
    built = output_table(node["relation_name"], asset_spec, columns, rows, extra_facets)
    return [start, run.event(RunState.COMPLETE, inputs, [built], at=ended)]


def _parent(relations: RelationColumns, unique_id: str) -> InputDataset:
    manifest = relations.manifest
    props = manifest["sources"].get(unique_id) or manifest["nodes"][unique_id]
    try:
        columns = relations(unique_id)
    except Exception:  # a parent with no files yet has no schema to report
        columns = None
    return input_table(props["relation_name"], columns)


def column_lineage_facet(
    lineage: dg.TableColumnLineage, relation_by_key: Mapping[dg.AssetKey, str]
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Dagster's column lineage (asset key + column) as OpenLineage's (dataset + field)."""
    fields = {
        column: column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=warehouse_namespace(),
                    name=relation_by_key[dep.asset_key],
                    field=dep.column_name,
                )
                for dep in deps
            ]
        )
        for column, deps in lineage.deps_by_column.items()
    }
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields)


def _execution_times(result: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """When dbt started and finished executing the model (None: not recorded, use now)."""
    for timing in result.get("timing") or []:
        if timing.get("name") == "execute":
            return timing.get("started_at"), timing.get("completed_at")
    return None, None
