"""The dbt project as dagster-dbt sees it, and the dbt command line the steps run.

Importing this module changes no environment variable, and outside `dagster dev` starts no
process. The manifest is prepared the dagster-dbt way (docs/configuration.md): under `dagster
dev` the code location parses a stale one as it loads (`prepare_if_dev`), `ettl` and the tests
call `prepare_if_stale()` before loading the definitions, `make install` runs this module, and
an image builds it with `dagster-dbt project prepare-and-package`.
"""

import os
import shutil
import sys
import uuid
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from ettl_assets import project_config, settings

# The dbt installed next to this interpreter, so a non-activated .venv (and `make`) finds it.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


class InstalledDbtCli(DbtCliResource):
    """dagster-dbt's resource, minus one process and one dbt adapter per step, and given the
    project configuration (profiles.yml and macros read it) in the dbt process's environment."""

    @cached_property
    def _cli_version(self) -> Version:
        """dagster-dbt runs `dbt --version` in a subprocess before every dbt call (~1.9 s, bench
        P3) only to tell dbt-core from the Fusion engine. The dbt next to this interpreter is the
        pinned dbt-core package, so its version is read from the installed package instead (a
        unit test checks both agree)."""
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

    def cli(
        self, args: Sequence[str], *, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> DbtCliInvocation:
        """dagster-dbt's `cli`, the dbt process also given the project configuration
        (ETTL_DATA_DIR, ETTL_FIRST_DAY, ETTL_TIMEZONE) and `env` (what the step adds: the data
        dir of its warehouse resource, the PII key, the Spark options)."""
        configured = project_config.environment(project_config.load())
        with settings.temporary_environment({**configured, **(env or {})}):
            return super().cli(args, **kwargs)


def dbt_cli(project: DbtProject) -> InstalledDbtCli:
    return InstalledDbtCli(project_dir=project, dbt_executable=DBT_EXECUTABLE)


PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's saved parse state, in a target path


def keep_partial_parse(invocation: DbtCliInvocation) -> None:
    """Keep a finished dbt invocation's parse state for the next one.

    dagster-dbt copies the project's saved parse state into each invocation's target path, so
    dbt re-parses only what changed, but never copies the result back: the state stayed the one
    `dbt parse` wrote at install, under another environment (the Spark options of a class-data
    archive dumped since, the data dir of a test or the bench), and every dbt step re-parsed the
    whole project. The replacement is atomic: two runs may finish at once, and either state is
    valid (dbt checks every file against it anyway)."""
    produced = Path(invocation.target_path) / PARTIAL_PARSE_FILE
    if not produced.is_file():
        return
    kept = Path(dbt_project.project_dir) / dbt_project.target_path / PARTIAL_PARSE_FILE
    temp = kept.with_name(f".{kept.name}.{uuid.uuid4().hex}")
    shutil.copyfile(produced, temp)
    os.replace(temp, kept)


def manifest_is_stale(project: DbtProject) -> bool:
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


def prepare(project: DbtProject) -> None:
    """Parse the project into its manifest: what dagster-dbt's preparer does (this project has no
    dbt packages), with the dbt next to this interpreter and the configured data dir that
    profiles.yml reads, also from a shell that activated and exported nothing."""
    dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()


def prepare_if_stale(project: DbtProject) -> None:
    """Parse the project when a model changed since the manifest was built (`ettl`, the tests),
    so a run never builds an outdated graph; a fresh manifest costs nothing."""
    if manifest_is_stale(project):
        prepare(project)


def prepare_if_dev(project: DbtProject) -> None:
    """dagster-dbt's `prepare_if_dev`: under `dagster dev` only, parse when the code location
    loads. Only when the manifest is stale: `dagster dev` loads the code location again in every
    run and step process, and a parse costs each of them 12-25 s (`dbt parse`, measured on the
    shared 2-core VM with other jobs running, 2026-11-30)."""
    if not (project.preparer.using_dagster_dev() and manifest_is_stale(project)):
        return
    # dagster-dbt's preparer runs `dbt` from PATH: the one next to this interpreter, also when
    # `make dev` started Dagster from a shell that did not activate the virtualenv.
    env = project_config.environment(project_config.load())
    if Path(DBT_EXECUTABLE).is_absolute():
        env["PATH"] = f"{Path(DBT_EXECUTABLE).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with settings.temporary_environment(env):
        project.prepare_if_dev()


# No target here, so dagster-dbt passes no --target: profiles.yml picks it from ETTL_DEPLOYMENT,
# or from ETTL_DBT_TARGET, which a step sets to run on the warm Spark server (warm_spark.py).
dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)
prepare_if_dev(dbt_project)


if __name__ == "__main__":  # `make install`: the manifest `dagster asset materialize` loads
    prepare(dbt_project)
