"""Ctrl-C of `ettl run` / `ettl backfill`: the run is canceled, the way Dagster cancels a run.

Dagster terminates a run by marking it CANCELING and then interrupting its process; the executor
forwards the interrupt to its step processes, waits for them, and the run ends CANCELED (an
interrupt without the CANCELING mark ends it as a FAILURE, "interrupted unexpectedly"). While a
run executes in the main thread, Dagster's own SIGINT handler replaces any other, so nothing
could mark the run first: the run executes in a worker thread instead, and this module's handler,
in the main thread, marks the run CANCELING and then raises the executor's interrupt flag, the
one Dagster's handler would raise. A second Ctrl-C stops waiting at once (the run's processes got
the terminal's SIGINT too; whatever they leave, the next launch releases: run_reaper.py).
"""

import signal
import threading
from collections.abc import Callable
from typing import TypeVar

import dagster as dg
from dagster._utils import interrupts  # the executor's interrupt flag (no public setter)

from ettl.run_progress import LAUNCH_TAG
from ettl.run_reaper import LIVE_STATUSES

T = TypeVar("T")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C'd command
JOIN_SECONDS = 0.2  # the main thread wakes this often to run signal handlers


def _cancel(launch_id: str) -> None:
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(
            dg.RunsFilter(tags={LAUNCH_TAG: launch_id}, statuses=LIVE_STATUSES)
        )
        for run in runs:
            instance.report_run_canceling(run, message="Ctrl-C: canceling the run")


def run_canceling_on_interrupt(launch_id: str, execute: Callable[[], T]) -> T:
    """`execute()` (which executes the run tagged LAUNCH_TAG=launch_id), with Ctrl-C canceling
    that run; a second Ctrl-C raises KeyboardInterrupt. Off the main thread (where no signal
    arrives), just `execute()`."""
    if threading.current_thread() is not threading.main_thread():
        return execute()
    result: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.append(execute())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    requested = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()
        print("\nCtrl-C: canceling the run, waiting for its steps to stop (Ctrl-C again: "
              "stop waiting)", flush=True)  # fmt: skip
        _cancel(launch_id)
        interrupts._received_interrupt["received"] = True

    worker = threading.Thread(target=work, name="dagster-run", daemon=True)
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(JOIN_SECONDS)
    finally:
        signal.signal(signal.SIGINT, previous)
        interrupts.pop_captured_interrupt()  # unread if the run ended first: not the next run's
    if errors:
        raise errors[0]
    return result[0]
