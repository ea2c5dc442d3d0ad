"""A launched run's progress while it executes: its assets materialized so far, read from the
instance's event log by a watcher thread (dg.execute_job blocks and reports nothing until done).
"""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from ettl.progress import progress

# Tags the run so the watcher can find it among other runs of the instance.
LAUNCH_TAG = "ettl/launch"
POLL_SECONDS = 1.0


def new_launch_id() -> str:
    return uuid.uuid4().hex


def _watch(launch_id: str, keys: set[dg.AssetKey], label: str, stop: threading.Event) -> None:
    with progress(label, total=len(keys)) as advance, dg.DagsterInstance.get() as instance:
        run_id, cursor, seen = None, None, set()
        while True:
            finished = stop.is_set()  # read before polling: the last poll sees every event
            if run_id is None:
                runs = instance.get_runs(dg.RunsFilter(tags={LAUNCH_TAG: launch_id}), limit=1)
                run_id = runs[0].run_id if runs else None
            if run_id is not None:
                result = instance.get_records_for_run(
                    run_id, cursor=cursor, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
                )
                cursor = result.cursor
                for record in result.records:
                    key = record.asset_key
                    if key in keys and key not in seen:  # a range run repeats it per partition
                        seen.add(key)
                        advance(f"materialized {key.to_user_string()}")
            if finished:
                return
            stop.wait(POLL_SECONDS)


@contextmanager
def watching(launch_id: str, keys: set[dg.AssetKey], label: str) -> Iterator[None]:
    """Show progress of the run tagged `LAUNCH_TAG=launch_id` while the body executes it."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            _watch(launch_id, keys, label, stop)
        except Exception as exc:  # progress is cosmetic: never fail or hang the run for it
            errors.append(exc)

    thread = threading.Thread(target=watch, name="run-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        if errors:
            print(f"(no progress shown: {errors[0]!r})")
