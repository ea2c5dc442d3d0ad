"""The dbt models as Dagster assets.

Daily (partitioned) and reference (unpartitioned) models are two definitions because one
@dbt_assets cannot mix partition definitions (trap 10); the `daily` tag set per folder in
dbt_project.yml splits them. Both build a whole date range in ONE dbt invocation (trap 2), and
both take the `dbt_spark` pool so only one embedded Spark opens the metastore at a time
(traps 1, 15).
"""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ettl_assets.partitions import daily_partitions
from ettl_assets.transform.dbt_vars import dbt_vars_for_window
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.translator import TieredTranslator

DAILY_SELECTOR = "tag:daily"
SPARK_POOL = "dbt_spark"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=DAILY_SELECTOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=TieredTranslator(),
    pool=SPARK_POOL,
    name="daily_dbt_models",
)
def daily_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    dbt_vars = dbt_vars_for_window(context.partition_time_window)
    context.log.info(f"dbt window: {dbt_vars}")
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=DAILY_SELECTOR,
    # Only so `dagster asset materialize --partition-range` accepts a selection that includes
    # them (it requires the policy of every selected asset).
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=TieredTranslator(),
    pool=SPARK_POOL,
    name="reference_dbt_models",
)
def reference_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
