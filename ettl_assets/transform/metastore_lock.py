"""One embedded Spark at a time on the Derby metastore, guaranteed by a file lock.

The `dbt_spark` pool queues dbt steps in Dagster, but its slot claim is not atomic on the
SQLite instance storage of a local Dagster (SQLite ignores the claim's FOR UPDATE): two runs
launched in the same instant can both get the one slot, and the second JVM then fails to boot
the metastore (Derby XSDB6, trap 1). An OS file lock next to the metastore cannot be claimed
twice, so the second dbt step waits here, with a log line saying why.
"""

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from ettl_assets import settings
from ettl_assets.private_files import private_dir

LOCK_FILE_NAME = "metastore.lock"
ACQUIRED = "embedded Spark metastore lock acquired"
RELEASED = "embedded Spark metastore lock released"


@contextmanager
def holding_embedded_metastore(log: Callable[[str], None]) -> Iterator[None]:
    """Hold the metastore while Spark may open it (no-op on a Thrift server, which holds the
    catalog itself). `log` reports waiting for another holder, and acquiring and releasing."""
    if not settings.embedded_spark():
        yield
        return
    path = settings.data_dir() / LOCK_FILE_NAME
    private_dir(path.parent)  # the data dir: owner-only when this creates it
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for the embedded Spark metastore: another dbt step or backup/restore "
                f"holds {path}")  # fmt: skip
            began = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            log(f"waited {time.monotonic() - began:.0f} s for the metastore")
        log(ACQUIRED)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            log(RELEASED)


@contextmanager
def embedded_metastore_lock(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Hold the metastore for the duration of a dbt invocation of an asset step."""
    with holding_embedded_metastore(context.log.info):
        yield
