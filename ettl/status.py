"""`ettl status`: the configuration in force, the engine, runs and Dagster backfills in progress,
what holds the pools and locks, and the newest partition of each asset. Read-only; `repair` is
run_reaper.repair.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

from ettl.backfill import sorted_keys
from ettl.run_reaper import pool_claims, runs_in_progress
from ettl.submit import backfill_daemon_running
from ettl_assets import project_config, settings, warm_spark
from ettl_assets.metastore_lock import LOCK_FILE_NAME, derby_lock_file
from ettl_assets.os_locks import lock_holders
from ettl_assets.thrift_server import accepts_connections

CONNECT_SECONDS = 1.0  # a Thrift server that does not accept by then is reported down
SHOWN_ASSETS = 3  # of a run's selection; the rest as a count
COMMAND_CHARS = 60  # of a lock holder's command line


def configuration() -> list[tuple[str, str, str]]:
    """(setting, value, where it comes from): the project configuration (ettl.yaml and its
    environment overrides), then what follows from it and from the environment."""

    def source(variable: str) -> str:
        return f"env {variable}" if variable in os.environ else "default"

    return [
        *project_config.describe(),
        ("DAGSTER_HOME", str(settings.dagster_home()), source(settings.DAGSTER_HOME_ENV)),
        ("deployment", settings.deployment(), source(settings.DEPLOYMENT_ENV)),
        ("dbt target", settings.dbt_target(), "from the deployment"),
        ("warehouse", str(settings.warehouse_dir()), "in the data dir"),
    ]


def configuration_lines() -> list[str]:
    rows = configuration()
    width = max(len(name) for name, _, _ in rows)
    return [f"{name:<{width}}  {value}  ({origin})" for name, value, origin in rows]


def engine_lines() -> list[str]:
    if settings.embedded_spark():
        warm = warm_spark.running_server(warm_spark.server_files(settings.data_dir()))
        if warm:  # it holds the metastore lock, taken for it by the step that started it
            pid, port = warm
            return [f"warm Spark server of the dbt steps: {warm_spark.LOOPBACK_HOST}:{port}, "
                    f"pid {pid} (holds the metastore lock; `ettl spark-server stop`)"]  # fmt: skip
        return [f"embedded Spark, started by each dbt step (metastore "
                f"{settings.data_dir() / 'metastore_db'}, one JVM at a time)"]  # fmt: skip
    from ettl import spark_server

    host, port = settings.spark_server_address()
    state = (
        "up"
        if accepts_connections(host, port, CONNECT_SECONDS)
        else "down (not accepting connections)"
    )
    pid = spark_server.running_pid()
    managed = f"; this data dir's server: pid {pid}" if pid else ""
    return [f"Spark Thrift server {host}:{port}: {state}{managed}"]


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "not started"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _assets(run: dg.DagsterRun) -> str:
    keys = [k.to_user_string() for k in sorted_keys(run.asset_selection or ())]
    if len(keys) > SHOWN_ASSETS:
        return ", ".join(keys[:SHOWN_ASSETS]) + f" +{len(keys) - SHOWN_ASSETS} more"
    return ", ".join(keys) or "-"


def run_lines(instance: dg.DagsterInstance) -> list[str]:
    lines = []
    for process in runs_in_progress(instance):
        if process.pid is None:
            alive = "pid not known yet"
        elif process.alive:
            alive = f"pid {process.pid} alive"
        else:
            alive = f"pid {process.pid} GONE (ettl status --repair)"
        since = _when(process.started_at)
        lines.append(f"{process.run.run_id}  {process.run.status.value:<9} since {since}  "
                     f"{alive}  assets: {_assets(process.run)}")  # fmt: skip
    return lines or ["none"]


# A backfill the daemon has yet to finish (or to stop); the others are history, in the UI.
UNFINISHED_BACKFILL = [
    BulkActionStatus.REQUESTED,
    BulkActionStatus.CANCELING,
    BulkActionStatus.FAILING,
]


def backfill_lines(instance: dg.DagsterInstance) -> list[str]:
    """Whether a daemon takes backfills, and the backfills it has not finished."""
    if backfill_daemon_running(instance):
        lines = ["backfill daemon: running (ettl backfill and plan --apply submit to it)"]
    else:
        lines = ["backfill daemon: not running (ettl backfill and plan --apply run in process)"]
    unfinished = instance.get_backfills(filters=BulkActionsFilter(statuses=UNFINISHED_BACKFILL))
    for backfill in unfinished:
        lines.append(f"{backfill.backfill_id}  {backfill.status.value:<9} since "
                     f"{_when(backfill.backfill_timestamp)}  {backfill.title or '-'}")  # fmt: skip
    return lines


def _step_processes(instance: dg.DagsterInstance) -> dict[int, str]:
    """pid -> "step S of run R", for the step processes of the runs in progress."""
    found = {}
    for process in runs_in_progress(instance):
        records = instance.get_records_for_run(
            process.run.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED
        ).records
        for record in records:
            event = record.event_log_entry.dagster_event
            pid = event.event_specific_data.metadata.get("pid")
            if pid is not None:
                found[int(pid.value)] = f"step {event.step_key} of run {process.run.run_id[:8]}"
    return found


def _describe(pid: int, steps: dict[int, str]) -> str:
    """What the process is: a run's step, or its command line (shortened)."""
    if pid in steps:
        return steps[pid]
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "exited"
    command = " ".join([Path(argv[0].decode()).name, *(a.decode() for a in argv[1:])]).strip()
    return command if len(command) <= COMMAND_CHARS else command[: COMMAND_CHARS - 3] + "..."


def lock_lines(instance: dg.DagsterInstance) -> list[str]:
    path, steps = settings.data_dir() / LOCK_FILE_NAME, _step_processes(instance)
    holding, waiting = lock_holders(path)
    held = ", ".join(f"pid {pid} ({_describe(pid, steps)})" for pid in holding) or "free"
    line = f"metastore lock {path}: {held}"
    if waiting:
        line += f"; waiting: {', '.join(f'pid {p} ({_describe(p, steps)})' for p in waiting)}"
    lines = [line]
    derby, _ = lock_holders(derby_lock_file())
    if derby:
        opened = ", ".join(f"pid {p} ({_describe(p, steps)})" for p in derby)
        lines.append(f"Derby metastore open by: {opened}")
    claims = pool_claims(instance)
    for claim in claims:
        run = instance.get_run_by_id(claim.run_id)
        state = run.status.value if run is not None else "deleted"
        what = "holds a slot" if claim.claimed else "waits for a slot"
        lines.append(f"pool {claim.pool}: run {claim.run_id} ({state}) {what}, "
                     f"step {claim.step_key}")  # fmt: skip
    if not claims:
        lines.append("concurrency pools: no slot claimed")
    return lines


def newest_partition_lines(graph: AssetGraph, instance: dg.DagsterInstance) -> list[str]:
    keys = sorted_keys(graph.get_all_asset_keys())
    width = max((len(k.to_user_string()) for k in keys), default=0)
    lines = []
    for key in keys:
        if graph.get(key).partitions_def is not None:
            partitions = instance.get_materialized_partitions(key)
            newest = max(partitions) if partitions else "never materialized"
        else:
            event = instance.get_latest_materialization_event(key)
            newest = f"(whole table) {_when(event.timestamp)}" if event else "never materialized"
        lines.append(f"{key.to_user_string():<{width}}  {newest}")
    return lines


def status_sections(graph: AssetGraph, instance: dg.DagsterInstance) -> list[tuple[str, list[str]]]:
    return [
        ("configuration", configuration_lines()),
        ("engine", engine_lines()),
        ("runs in progress", run_lines(instance)),
        ("backfills", backfill_lines(instance)),
        ("locks and pools", lock_lines(instance)),
        ("newest partition of each asset", newest_partition_lines(graph, instance)),
    ]
