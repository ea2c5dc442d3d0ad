"""The single entry point of the code location: one Definitions object."""

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ettl_assets.sources.bronze import bronze_asset_for
from ettl_assets.sources.registry import load_registry
from ettl_assets.transform.assets import daily_dbt_models, reference_dbt_models
from ettl_assets.transform.project import dbt_project

# The dbt installed next to this interpreter, so a non-activated .venv still finds it.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"

bronze_assets = [bronze_asset_for(spec) for spec in load_registry()]

defs = dg.Definitions(
    assets=[*bronze_assets, daily_dbt_models, reference_dbt_models],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
