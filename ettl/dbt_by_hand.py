"""`ettl dbt ARGS...`: dbt by hand on the project, on the engine the pipeline's steps use.

On the local deployment with the warm Spark server on (ETTL_WARM_SPARK_IDLE_MINUTES), or while
one still runs, that server holds the Derby metastore: a plain `dbt` would start its own Spark
and fail to open it. This runs dbt against the server instead (starting it if needed), holding
it in use like a step, so its watchdog does not stop it meanwhile. Otherwise it is plain dbt.
The project and profiles directories are the project's unless ARGS name others.
"""

import os
import subprocess
import sys

from ettl_assets import pii_key, settings, warm_spark
from ettl_assets.spark_class_archive import JAVA_OPTIONS_ENV, java_options
from ettl_assets.transform.project import DBT_EXECUTABLE

# Used when a warm server is found running but the variable is unset in this shell.
FALLBACK_IDLE_MINUTES = 15.0


def command(args: list[str]) -> list[str]:
    project = [] if "--project-dir" in args else ["--project-dir", str(settings.DBT_PROJECT_DIR)]
    profiles = [] if "--profiles-dir" in args else ["--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    return [DBT_EXECUTABLE, *args, *project, *profiles]


def run_dbt(args: list[str]) -> int:
    data_dir = settings.data_dir()
    env = {**os.environ, pii_key.PII_KEY_ENV: pii_key.read_key(), JAVA_OPTIONS_ENV: java_options()}
    minutes = warm_spark.idle_minutes()
    running = warm_spark.running_server(warm_spark.server_files(data_dir))
    if not settings.embedded_spark() or not (minutes or running):
        return subprocess.call(command(args), env=env)
    log = lambda line: print(f"ettl: {line}", file=sys.stderr)  # noqa: E731
    with warm_spark.serving(data_dir, minutes or FALLBACK_IDLE_MINUTES, env[JAVA_OPTIONS_ENV],
                            log) as port:  # fmt: skip
        return subprocess.call(command(args), env=env | warm_spark.dbt_environment(port))
