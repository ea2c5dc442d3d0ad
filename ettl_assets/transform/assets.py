"""The dbt models as Dagster assets.

Daily (partitioned) and reference (unpartitioned) models are two definitions because one @dbt_assets
cannot mix partition definitions (docs/design-decisions.md#d10); the `daily` tag set per folder in
dbt_project.yml splits them. Both build a whole date range in ONE dbt invocation
(docs/design-decisions.md#d2). On the embedded Spark both take a file lock (metastore_lock.py), so
only one JVM opens the metastore at a time (docs/design-decisions.md#d1,
docs/design-decisions.md#d15), whichever way the run was started. No Dagster concurrency pool: a
pool slot stays claimed when its run is killed, and then every later dbt step waits for it forever
on a local instance, while the kernel releases the lock when its holder dies (docs/operations.md,
"When a run is killed").
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, dbt_assets

from ettl_assets.execution import DBT_OP_TAGS
from ettl_assets.metadata import COMPILED_SQL, PREVIEW, rows_metadata
from ettl_assets.partitions import daily_partitions
from ettl_assets.pii_key import PII_KEY_ENV
from ettl_assets.reconciliation.checks import SilverReconciliation
from ettl_assets.resources import PiiKey, SparkEngine, Warehouse
from ettl_assets.tiers import tier_of_key
from ettl_assets.transform.bronze_partitions import bronze_partitions_environment
from ettl_assets.transform.column_metadata import RelationColumns, column_metadata
from ettl_assets.transform.compiled_sql import compiled_sql
from ettl_assets.transform.dbt_vars import dbt_vars_for_window, window_environment
from ettl_assets.transform.preview import table_preview
from ettl_assets.transform.project import InstalledDbtCli, dbt_project, keep_partial_parse
from ettl_assets.transform.row_counts import model_tables, rows_in_window
from ettl_assets.transform.state import STATE_METADATA_KEY, save_state
from ettl_assets.transform.translator import DAILY_TAG, TieredTranslator

DAILY_SELECTOR = f"tag:{DAILY_TAG}"
# dbt unit tests check the SQL's logic on fixed rows, not a day's data: they run in `dbt test`
# and `make test` (dbt's advice for production), not in every orchestrated build, where they
# took ~8 s of a one-day daily step (bench P3). Data tests still gate every build.
DBT_BUILD = ["build", "--exclude-resource-type", "unit_test"]


def with_run_metadata(
    context: dg.AssetExecutionContext,
    invocation: DbtCliInvocation,
    window: dict[str, str] | None,
) -> Iterator[Any]:
    """Add rows written (in the window), column schema and lineage, the compiled SQL, the dbt
    state and, for gold, a preview of its first rows to each model's materialization."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    relations = RelationColumns(manifest)
    tables = model_tables(manifest)
    state_dir = save_state(dbt_project.manifest_path)
    start, end = (window["start_date"], window["end_date"]) if window else (None, None)
    one_day = window is not None and len(context.partition_keys) == 1
    for event in invocation.stream():
        if isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
            table = tables[key]
            rows = rows_in_window(table, start, end)
            metadata = {
                **rows_metadata(rows, single_partition=window is None or one_day),
                STATE_METADATA_KEY: str(state_dir),
            }
            try:
                if sql := compiled_sql(manifest["nodes"][table.unique_id], invocation.target_path):
                    metadata[COMPILED_SQL] = dg.MetadataValue.text(sql)
                metadata |= column_metadata(relations, table.unique_id, invocation.target_path)
            except Exception as exc:  # catalog metadata must never fail a run
                context.log.warning(f"no column metadata for {table.unique_id}: {exc!r}")
            if tier_of_key(key) == "gold":  # what people read: show it in the UI
                try:
                    metadata[PREVIEW] = table_preview(table, start, end)
                except Exception as exc:  # a preview must never fail a run either
                    context.log.warning(f"no preview for {table.unique_id}: {exc!r}")
            event = event.with_metadata({**event.metadata, **metadata})
        yield event


@contextmanager
def spark_for_dbt(
    context: dg.AssetExecutionContext,
    spark: SparkEngine,
    warehouse: Warehouse,
    window: dict[str, str] | None,
) -> Iterator[dict[str, str]]:
    """The engine ready for one dbt invocation (SparkEngine.ready_for_dbt), and the environment
    dbt needs: the warehouse's data dir, the engine's options and the bronze partitions of the
    step's window (none: the reference step) to register."""
    partitions = bronze_partitions_environment(warehouse.bronze_dir(), window)
    with spark.ready_for_dbt(context.log.info) as spark_env:
        yield {**warehouse.dbt_env(), **spark_env, **partitions}


# What both definitions share. The single-run policy builds a date range in one dbt call; on
# the unpartitioned one it only lets `dagster asset materialize --partition-range` accept a
# selection that includes it (the CLI requires the policy of every selected asset).
COMMON = {
    "manifest": dbt_project.manifest_path,
    "project": dbt_project,
    "dagster_dbt_translator": TieredTranslator(),
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "op_tags": DBT_OP_TAGS,  # the dbt step's pod size on Kubernetes (execution.py)
}


@dbt_assets(
    **COMMON, select=DAILY_SELECTOR, partitions_def=daily_partitions, name="daily_dbt_models"
)
def daily_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: InstalledDbtCli,
    warehouse: Warehouse,
    spark: SparkEngine,
    pii_key: PiiKey,
):
    dbt_vars = dbt_vars_for_window(context.partition_time_window)
    context.log.info(f"dbt window: {dbt_vars}")
    key = pii_key.read()  # silver hashes personal data with it; fails here, clearly, if missing
    # What silver must hold per day, from bronze and the named rules (docs/reconciliation.md).
    ledger = SilverReconciliation(context, dbt_vars)
    with spark_for_dbt(context, spark, warehouse, dbt_vars) as env:
        dbt_env = env | window_environment(dbt_vars) | ledger.dbt_environment | {PII_KEY_ENV: key}
        invocation = dbt.cli(DBT_BUILD, context=context, env=dbt_env)
        yield from ledger.checked(context, with_run_metadata(context, invocation, dbt_vars))
    keep_partial_parse(invocation)


@dbt_assets(**COMMON, exclude=DAILY_SELECTOR, name="reference_dbt_models")
def reference_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: InstalledDbtCli,
    warehouse: Warehouse,
    spark: SparkEngine,
):
    with spark_for_dbt(context, spark, warehouse, window=None) as env:
        invocation = dbt.cli(DBT_BUILD, context=context, env=env)
        yield from with_run_metadata(context, invocation, None)
    keep_partial_parse(invocation)
