"""Where things live and which engine runs them, resolved in one place from the project
configuration (ettl.yaml and its environment overrides, read by project_config.py).

Every path is absolute and fixed (docs/design-decisions.md#d1): dbt started from any working
directory, the Dagster UI and the tests must all see the same metastore and warehouse.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ettl_assets import project_config
from ettl_assets.spark_class_archive import export_java_options

PROJECT_ROOT = project_config.PROJECT_ROOT
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DATA_DIR_ENV = project_config.ENV[project_config.DATA_DIR]
DAGSTER_HOME_ENV = "DAGSTER_HOME"
DEPLOYMENT_ENV = "ETTL_DEPLOYMENT"

SPARK_HOST_ENV = "ETTL_SPARK_HOST"
SPARK_PORT_ENV = "ETTL_SPARK_PORT"

# Deployment name -> dbt target in dbt_project/profiles.yml.
#   local   embedded Spark in the dbt process (method: session), Dagster runs on this machine
#   thrift  a Spark Thrift server (`make spark-server`, or a shared one), Dagster on this machine
#   k8s     Dagster on Kubernetes (one pod per step), dbt against the cluster's Thrift server
DBT_TARGET_BY_DEPLOYMENT = {"local": "local", "thrift": "thrift", "k8s": "thrift"}


def data_dir() -> Path:
    """Root of everything the pipeline writes: warehouse, metastore, reports, logs."""
    return project_config.load().data_dir


def dagster_home() -> Path:
    """The project's Dagster instance (run history, event logs): dagster_home/dagster.yaml."""
    return Path(os.environ.get(DAGSTER_HOME_ENV, PROJECT_ROOT / "dagster_home")).resolve()


def landing_root() -> str:
    """Where sources deliver: an absolute local path or an fsspec URL (sources/landing_zone.py)."""
    return project_config.load().landing_root


def landing_dir() -> Path:
    """The landing root as a local folder, for the tools that need one (bench, lineage text)."""
    root = landing_root()
    if root.startswith("file://"):
        return Path(root.removeprefix("file://"))
    if "://" in root:
        raise ValueError(f"the landing root {root} is not a local folder")
    return Path(root)


# The layout of a data dir. `root`: the data dir of a resource (resources.py); by default the
# configured one.


def warehouse_dir(root: Path | None = None) -> Path:
    """spark.sql.warehouse.dir: silver.db/ and gold.db/ are Spark-managed, bronze.db/ is ours."""
    return (root or data_dir()) / "warehouse"


def reports_dir(root: Path | None = None) -> Path:
    """Rendered reports (HTML) for people, next to the data they show."""
    return (root or data_dir()) / "reports"


def table_location(schema: str, name: str = "") -> str:
    """Spark's rule for a managed table's folder relative to the warehouse, `<schema>.db/<name>`
    (the database's own folder without a name). Bronze, which Python writes, follows the same
    rule, so every tier sits side by side; backups record it."""
    return f"{schema}.db/{name}" if name else f"{schema}.db"


def schema_dir(schema: str, root: Path | None = None) -> Path:
    """A database's folder in the warehouse."""
    return warehouse_dir(root) / table_location(schema)


def table_dir(schema: str, name: str, root: Path | None = None) -> Path:
    """A table's folder."""
    return warehouse_dir(root) / table_location(schema, name)


def bronze_dir(root: Path | None = None) -> Path:
    return schema_dir("bronze", root)


def backups_dir() -> Path:
    """Where `ettl backup` writes when no --to is given (one folder per backup)."""
    return data_dir() / "backups"


def logs_dir() -> Path:
    """Full logs of `ettl backup` / `ettl restore`, for what their one-line errors leave out."""
    return data_dir() / "logs"


def deployment() -> str:
    name = os.environ.get(DEPLOYMENT_ENV, "local")
    if name not in DBT_TARGET_BY_DEPLOYMENT:
        known = ", ".join(sorted(DBT_TARGET_BY_DEPLOYMENT))
        raise ValueError(f"{DEPLOYMENT_ENV}={name!r} is not a known deployment ({known})")
    return name


def dbt_target() -> str:
    return DBT_TARGET_BY_DEPLOYMENT[deployment()]


def embedded_spark() -> bool:
    """True when dbt starts its own Spark, whose Derby metastore admits one JVM at a time."""
    return dbt_target() == "local"


def spark_server_address() -> tuple[str, int]:
    """The Spark Thrift server of the `thrift` target (profiles.yml reads the same variables)."""
    return os.environ.get(SPARK_HOST_ENV, "127.0.0.1"), int(os.environ.get(SPARK_PORT_ENV, "10001"))


def export_environment() -> None:
    """Make the resolved paths visible to child processes: dbt reads ETTL_DATA_DIR in
    profiles.yml, Dagster's CLI and APIs find the project's instance through DAGSTER_HOME, and
    an embedded Spark starts with the class-data archive when there is one.

    For entry points only (the `ettl` CLI): importing the code location changes no environment
    variable; its steps give dbt what it needs through their resources (resources.py)."""
    # dbt's default window (macros/partition_window.sql) reads the first day and timezone.
    project_config.export_environment(project_config.load())
    os.environ.setdefault(DAGSTER_HOME_ENV, str(dagster_home()))
    export_java_options()


@contextmanager
def temporary_environment(env: Mapping[str, str]) -> Iterator[None]:
    """`env` in os.environ for the block, the former values restored after it.

    For what reads the environment when it starts and takes none of its own: dagster-dbt 0.29's
    `cli()` copies os.environ into the dbt process it starts, so the step process (and importing
    the code location) keeps its own environment.
    """
    former = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in former.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
