"""One embedded Spark at a time on the Derby metastore, guaranteed by a file lock.

A second JVM on the metastore fails to boot it (Derby XSDB6, docs/design-decisions.md#d1), so a dbt
step (and backup or restore) waits here, with a log line saying why, while another holds it. An OS
file lock, not a Dagster concurrency pool: it cannot be claimed twice (a pool's slot claim is not
atomic on the SQLite storage of a local instance, which ignores the claim's FOR UPDATE), it holds
whichever way the run was started (`ettl run`, `dagster asset materialize`, the UI), and the kernel
releases it when its holder dies, where a killed run's pool slot stays claimed for good.
"""

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from ettl_assets import settings
from ettl_assets.os_locks import lock_holders
from ettl_assets.private_files import private_dir

LOCK_FILE_NAME = "metastore.lock"
# Derby's own lock while a JVM has the metastore booted (a POSIX lock, seen in /proc/locks).
DERBY_LOCK = Path("metastore_db") / "dbex.lck"
WAIT_POLL_SECONDS = 1.0
ACQUIRED = "embedded Spark metastore lock acquired"
RELEASED = "embedded Spark metastore lock released"


def derby_lock_file(data_dir: Path | None = None) -> Path:
    return (data_dir or settings.data_dir()) / DERBY_LOCK


def _wait_for_orphaned_spark(log: Callable[[str], None], data_dir: Path) -> None:
    """A dbt step killed alone (SIGKILL of the step process) leaves its dbt process and Spark
    running, the metastore open, until they finish: wait for them instead of failing on Derby."""
    holders, _ = lock_holders(derby_lock_file(data_dir))
    if not holders:
        return
    log(f"waiting for Spark (pid {', '.join(map(str, holders))}) of a killed dbt step to close "
        "the metastore")  # fmt: skip
    began = time.monotonic()
    while lock_holders(derby_lock_file(data_dir))[0]:
        time.sleep(WAIT_POLL_SECONDS)
    log(f"waited {time.monotonic() - began:.0f} s for the orphaned Spark")


def locked(log: Callable[[str], None], data_dir: Path) -> TextIO:
    """The metastore lock file, open and locked: waits (saying so) for its holder to let go.
    A server that keeps the metastore open is handed the lock: pass it the handle's descriptor
    and close the handle here; the lock is then held for as long as the server lives (the
    kernel frees it when the server exits, however it ends)."""
    path = data_dir / LOCK_FILE_NAME
    private_dir(path.parent)  # the data dir: owner-only when this creates it
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"waiting for the embedded Spark metastore: another dbt step, backup/restore or the "
            f"warm Spark server (warm_spark.py) holds {path}")  # fmt: skip
        began = time.monotonic()
        fcntl.flock(handle, fcntl.LOCK_EX)
        log(f"waited {time.monotonic() - began:.0f} s for the metastore")
    _wait_for_orphaned_spark(log, data_dir)
    return handle


@contextmanager
def holding_embedded_metastore(
    log: Callable[[str], None], data_dir: Path | None = None, embedded: bool | None = None
) -> Iterator[None]:
    """Hold the metastore while Spark may open it (no-op on a Thrift server, which holds the
    catalog itself). `log` reports waiting for another holder, and acquiring and releasing.
    The data dir and engine are the configured ones unless given (the SparkEngine resource)."""
    if not (settings.embedded_spark() if embedded is None else embedded):
        yield
        return
    with locked(log, data_dir or settings.data_dir()) as handle:
        log(ACQUIRED)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            log(RELEASED)
