"""A local Spark Thrift server for the `thrift` target, started from pyspark's own jars.

It listens on loopback, on the project's warehouse and metastore, and stays up between runs: a warm
server skips the JVM start every dbt step of the `local` target pays, and it is the one JVM holding
the Derby metastore, so any number of runs can use it at once (the one-JVM limit of
docs/design-decisions.md#d1 does not apply). While it runs, the `local` target cannot open the
metastore: stop it to go back.

`--cluster` runs it as the driver of a Spark standalone cluster on loopback (spark_cluster.py),
and with ETTL_METASTORE_URL set its catalog is in PostgreSQL (metastore.py) instead of Derby.
"""

import os
import subprocess
import time

from ettl import metastore, spark_cluster
from ettl_assets import settings
from ettl_assets.server_processes import log_tail, pid_from_file, stop_process_group
from ettl_assets.spark_settings import ENGINE, catalog, derby_metastore_url
from ettl_assets.thrift_server import (
    THRIFT_SERVER_CLASS,
    ServerFiles,
    accepts_connections,
    answers_sql,
    server_command,
)

READY_TIMEOUT_SECONDS = 240  # ~30 s on 2 cores when warm on disk; a cold JVM takes longer
# The server's web UI on a cluster, whose REST API (/api/v1) shows where its tasks ran.
UI_PORT_ENV = "ETTL_SPARK_UI_PORT"
DEFAULT_UI_PORT = 4040
# Per executor, within a worker's 1 GB (spark_cluster.WORKER_MEMORY).
EXECUTOR_MEMORY = "768m"
LOOPBACK = {"127.0.0.1", "localhost"}


class SparkServerError(RuntimeError):
    """The server could not be started or stopped; the message says why and where to look."""


def server_files() -> ServerFiles:
    return ServerFiles(settings.data_dir() / "spark-server")


def ui_port() -> int:
    return int(os.environ.get(UI_PORT_ENV, DEFAULT_UI_PORT))


def spark_submit_command(host: str, port: int, master: str | None = None) -> list[str]:
    """The server's command: in local mode, or as the driver of the cluster at `master`."""
    data = settings.data_dir()
    shared_metastore = metastore.configured()
    # The same Derby metastore as the `local` target: switching targets keeps the tables. Or
    # the shared PostgreSQL one; the rest of its connection is in the hive-site.xml the class
    # path below leads to (the password is kept off this command line).
    url = shared_metastore.url if shared_metastore else derby_metastore_url(data)
    conf = ENGINE | catalog(settings.warehouse_dir(), url, data)
    if shared_metastore:
        conf["spark.driver.extraClassPath"] = metastore.driver_class_path()
    if master:
        conf |= {
            # One 1-core executor per worker: both workers take part in every job.
            "spark.executor.cores": "1",
            "spark.cores.max": str(spark_cluster.WORKERS * spark_cluster.WORKER_CORES),
            "spark.executor.memory": EXECUTOR_MEMORY,
            # The UI's REST API tells which executor ran which tasks.
            "spark.ui.enabled": "true",
            "spark.ui.port": str(ui_port()),
        }
    return server_command(host, port, conf, master)


def running_pid() -> int | None:
    """The pid of this data dir's server if it is alive."""
    return pid_from_file(server_files().pid, THRIFT_SERVER_CLASS)


def start(progress=print, cluster: bool = False) -> int:
    """Start the server (or find it running) and wait until it answers SQL. Returns its pid.
    With `cluster`, first the standalone cluster it then runs on."""
    host, port = settings.spark_server_address()
    if host not in LOOPBACK:
        raise SparkServerError(
            f"{settings.SPARK_HOST_ENV}={host}: a remote server is not started from here; "
            "unset it to start one on this machine"
        )
    files = server_files()
    pid = running_pid()
    if pid is not None and answers_sql(host, port):
        progress(f"Spark Thrift server already running on {host}:{port} (pid {pid})")
        return pid
    if pid is None and accepts_connections(host, port):
        raise SparkServerError(
            f"port {port} on {host} is taken by another process; "
            f"set {settings.SPARK_PORT_ENV} to a free port"
        )
    if pid is None:
        try:
            metastore.prepare()
            master = spark_cluster.start(progress) if cluster else None
        except (metastore.MetastoreError, spark_cluster.ClusterError) as exc:
            raise SparkServerError(str(exc)) from exc
        files.root.mkdir(parents=True, exist_ok=True)
        with files.log.open("ab") as log:
            process = subprocess.Popen(
                spark_submit_command(host, port, master), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=files.root, start_new_session=True,
                env=spark_cluster.environment(),  # loopback only, on a cluster too
            )  # fmt: skip
        pid = process.pid
        files.pid.write_text(str(pid))
    progress(f"starting Spark Thrift server on {host}:{port} (pid {pid}, log {files.log})")
    began = time.monotonic()
    next_report = 10
    while not answers_sql(host, port):
        if running_pid() is None:
            files.pid.unlink(missing_ok=True)
            raise SparkServerError(f"the server exited while starting; see {files.log}:\n"
                                   + log_tail(files.log))  # fmt: skip
        waited = time.monotonic() - began
        if waited > READY_TIMEOUT_SECONDS:
            stop(progress)
            raise SparkServerError(f"not ready after {READY_TIMEOUT_SECONDS} s; see {files.log}")
        if waited >= next_report:
            progress(f"  waiting for the server ... {waited:.0f} s")
            next_report += 10
        time.sleep(2)
    progress(f"Spark Thrift server ready on {host}:{port} after {time.monotonic() - began:.0f} s")
    if spark_cluster.running():
        progress(f"  its UI and REST API: http://127.0.0.1:{ui_port()}/api/v1/applications")
        progress(f"  logs: {files.log} (server), {spark_cluster.cluster_root()}/*.log (master, "
                 "workers), work/<worker>/<app>/<executor>/stderr (executors)")  # fmt: skip
    return pid


def stop(progress=print) -> bool:
    """Stop this data dir's server, then its cluster if it has one: SIGTERM to each process
    group, SIGKILL if it lingers (some JVMs here ignore SIGTERM)."""
    files = server_files()
    pid = running_pid()
    files.pid.unlink(missing_ok=True)
    if pid is not None:
        stop_process_group(pid)
        progress(f"Spark Thrift server stopped (pid {pid})")
    cluster_stopped = spark_cluster.stop(progress)
    if pid is None and not cluster_stopped:
        progress("no Spark Thrift server is running for this data dir")
    return pid is not None or cluster_stopped


def cluster_status_lines() -> list[str]:
    """What `ettl spark-server status` says about the cluster: each JVM, running or not."""
    if not spark_cluster.running():
        return ["no Spark cluster for this data dir (`start --cluster` starts one)"]
    lines = []
    for process in spark_cluster.processes():
        pid = process.pid()
        state = f"running (pid {pid})" if pid else "not running"
        lines.append(f"  Spark {process.name}: {state}, log {process.log}")
    workers = spark_cluster.alive_workers(spark_cluster.master_status())
    lines.append(f"  master {spark_cluster.master_url()}: {workers} worker(s) registered")
    return lines
