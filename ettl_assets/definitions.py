"""The single entry point of the code location: one Definitions object."""

import dagster as dg

from ettl_assets import settings
from ettl_assets.automation import all_tiers_daily_job, build_landing_sensor, daily_schedule
from ettl_assets.bronze.assets import bronze_asset_for
from ettl_assets.bronze.registry import load_registry
from ettl_assets.execution import executor_for
from ettl_assets.lineage_events.finished_runs import lineage_sensors
from ettl_assets.reconciliation.checks import gold_reconciliation_check
from ettl_assets.reports.gold_report import gold_report
from ettl_assets.resources import configured_resources
from ettl_assets.transform.assets import daily_dbt_models, reference_dbt_models
from ettl_assets.transform.project import dbt_cli, dbt_project

sources = load_registry()
bronze_assets = [bronze_asset_for(spec) for spec in sources]

defs = dg.Definitions(
    assets=[*bronze_assets, daily_dbt_models, reference_dbt_models, gold_report],
    asset_checks=[gold_reconciliation_check()],
    jobs=[all_tiers_daily_job],
    schedules=[daily_schedule],
    sensors=[build_landing_sensor(list(sources)), *lineage_sensors()],
    resources={"dbt": dbt_cli(dbt_project), **configured_resources()},
    executor=executor_for(settings.deployment()),
)
