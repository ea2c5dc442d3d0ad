"""What a killed run leaves behind on this machine, found and released.

On a local instance (SQLite storage, no daemon) nothing watches a run's process. SIGKILL of
`ettl run`, an OOM kill, a closed SSH session or a reboot leaves the run STARTED in the run
storage for good, and any concurrency-pool slot its steps claimed stays claimed even once the run
is marked failed: a slot is given back by the step process that claimed it, or by the daemon's run
monitoring, which a local instance does not run (and which cannot tell that a run worker of the
default run launcher died: that launcher has no health check). OS file locks, such as the
metastore lock, need none of this: the kernel releases them when their holder dies.

A run's process is the one its executor names in the run's event log ("Executing steps using
multiprocess executor: parent process (pid: N)"): `ettl run` itself, `dagster asset materialize`
itself, or the run worker the UI started. A run is dead when that process is gone, or when the
pid now belongs to a process started after the run (the pid was reused).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES  # the terminal statuses

from ettl_assets import settings

# A run's process starts before the run does; this absorbs the rounding of start times read
# from /proc (the boot time is in whole seconds).
START_SLACK_SECONDS = 2.0
# In progress and owned by a process that should still be running.
LIVE_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_started_at(pid: int) -> float | None:
    """When the process `pid` started (epoch seconds), or None if there is no such live process
    (a zombie has exited already)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    state, start_ticks = fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
    if state in ("Z", "X"):
        return None
    return boot + start_ticks / os.sysconf("SC_CLK_TCK")


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process that executes the run, from its event log (None before the
    executor started)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=100
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = getattr(event.event_specific_data, "metadata", None) or {}
        if event.step_key is None and "pid" in metadata:
            return int(metadata["pid"].value)
    return None


@dataclass(frozen=True)
class RunProcess:
    """A run in progress and the process executing it."""

    run: dg.DagsterRun
    started_at: float | None  # the run's start, epoch seconds
    pid: int | None  # None: not known yet (the run has not reached its executor)
    alive: bool

    @property
    def dead(self) -> bool:
        return self.pid is not None and not self.alive


def runs_in_progress(instance: dg.DagsterInstance) -> list[RunProcess]:
    """Every run of the instance that is starting, started or canceling, with its process."""
    found = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=LIVE_STATUSES)):
        run, pid = record.dagster_run, run_pid(instance, record.dagster_run.run_id)
        started = record.start_time or record.create_timestamp.timestamp()
        process_start = process_started_at(pid) if pid is not None else None
        alive = process_start is not None and process_start <= started + START_SLACK_SECONDS
        found.append(RunProcess(run, record.start_time, pid, alive))
    return found


@dataclass(frozen=True)
class PoolClaim:
    """A step of a run that holds (or queues for) a slot of a concurrency pool."""

    pool: str
    run_id: str
    step_key: str
    claimed: bool  # False: waiting in the pool's queue


def pool_claims(instance: dg.DagsterInstance) -> list[PoolClaim]:
    storage = instance.event_log_storage
    claims = []
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        claims += [PoolClaim(pool, s.run_id, s.step_key, True) for s in info.claimed_slots]
        claims += [PoolClaim(pool, s.run_id, s.step_key, False) for s in info.pending_steps]
    return claims


def can_reap_here() -> bool:
    """Runs execute on this machine (their pids mean something here) unless on Kubernetes,
    where each run is a pod and Dagster's run monitoring (K8sRunLauncher) handles dead ones."""
    return settings.deployment() != "k8s"


def _short(run_id: str) -> str:
    return run_id[:8]


def repair(instance: dg.DagsterInstance) -> list[str]:
    """Mark the runs whose process is gone as failed (canceled, if they were being canceled),
    then free every pool slot and queue place held by a run that is finished, dead or unknown.
    Returns one line per thing released (empty: nothing needed it)."""
    if not can_reap_here():
        return []
    done: list[str] = []
    for process in runs_in_progress(instance):
        if not process.dead:
            continue
        run = process.run
        why = (f"its process {process.pid} is gone (killed, or the machine restarted); "
               "marked by `ettl` when it found the run orphaned")  # fmt: skip
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message=f"Run canceled: {why}")
            outcome = "CANCELED"
        else:
            instance.report_run_failed(run, message=f"Run failed: {why}")
            outcome = "FAILURE"
        done.append(f"run {_short(run.run_id)} ({run.status.value}, process {process.pid} gone): "
                    f"marked {outcome}")  # fmt: skip
    freed: set[str] = set()
    for claim in pool_claims(instance):
        if claim.run_id in freed:
            continue
        run = instance.get_run_by_id(claim.run_id)
        if run is not None and run.status not in FINISHED_STATUSES:
            continue  # in progress and alive (the dead ones were just marked finished)
        instance.event_log_storage.free_concurrency_slots_for_run(claim.run_id)
        freed.add(claim.run_id)
        state = run.status.value if run is not None else "deleted"
        held = "slot" if claim.claimed else "queue place"
        done.append(f"pool {claim.pool}: freed the {held} of run {_short(claim.run_id)} "
                    f"({state}, step {claim.step_key})")  # fmt: skip
    return done
