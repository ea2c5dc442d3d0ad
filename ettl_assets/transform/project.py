"""The dbt project as dagster-dbt sees it, and keeping its manifest current."""

import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from ettl_assets import settings

# The dbt installed next to this interpreter, so a non-activated .venv (and `make`) finds it.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


def _manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than any file dbt parses."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")
    for entry in watched:
        path = Path(project.project_dir) / entry
        files = [path] if path.is_file() else path.rglob("*")
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def build_dbt_project() -> DbtProject:
    settings.export_environment()  # profiles.yml reads ETTL_DATA_DIR
    project = DbtProject(
        project_dir=settings.DBT_PROJECT_DIR,
        profiles_dir=settings.DBT_PROJECT_DIR,
        target=settings.dbt_target(),
    )
    # Re-parse when a model changed, so `dagster asset materialize` never runs an outdated
    # graph; a manifest built ahead of time (e.g. in an image) is fresh and costs nothing.
    if _manifest_is_stale(project):
        dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project


class InstalledDbtCli(DbtCliResource):
    """dagster-dbt's resource, minus one process and one dbt adapter per step.

    Before every dbt call, dagster-dbt runs `dbt --version` in a subprocess (~1.9 s, bench P3)
    only to tell dbt-core from the Fusion engine. The dbt next to this interpreter is the pinned
    dbt-core package, so its version is read from the installed package instead (a unit test
    checks both agree).
    """

    @cached_property
    def _cli_version(self) -> Version:
        if DBT_EXECUTABLE == "dbt":  # not ours: ask it, as dagster-dbt does
            return super()._cli_version
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """No dbt adapter in the step process (~2.5 s before every dbt call, bench P3).

        dagster-dbt opens one only for `fetch_row_counts()` and `fetch_column_metadata()`, which
        would start a second Spark on the embedded metastore (docs/design-decisions.md#d14); the row
        counts and column metadata here are read from the tables' Parquet files instead.
        """
        return None


def dbt_cli(project: DbtProject) -> DbtCliResource:
    return InstalledDbtCli(project_dir=project, dbt_executable=DBT_EXECUTABLE)


dbt_project = build_dbt_project()
