"""One warm Spark per data dir for the local deployment's dbt steps (opt-in, docs/performance.md).

With ETTL_WARM_SPARK_IDLE_MINUTES set, a dbt step does not start Spark inside its dbt process:
it starts the data dir's Spark Thrift server, or finds it running, and runs dbt on the `thrift`
target against it. Every later step, of this run or the next, finds it warm: no JVM start, no
warm-up. The server holds the Derby metastore lock (metastore_lock.py) for as long as it lives,
so no embedded Spark opens the metastore beside it. A watchdog process stops it once no step has
used it for that many minutes.

Files, in <data_dir>/warm-spark/: server.pid, server.port, server.log (the server's and the
watchdog's output), watchdog.pid, and:
- start.lock: one step at a time checks for the server and starts it;
- in-use.lock: each step holds it shared while it uses the server; the watchdog stops the server
  only when it can take it exclusively (no step is using it) and the last use is old enough. A
  step that dies releases its share with its process, so nothing needs repair;
- last-used: touched when a step is done with the server.

Nothing here needs the user: the first step starts the server, the watchdog stops it.
"""

import argparse
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ettl_assets import metastore_lock, settings
from ettl_assets.pii_key import PII_KEY_ENV
from ettl_assets.private_files import private_dir
from ettl_assets.server_processes import alive, log_tail, pid_from_file, stop_process_group
from ettl_assets.spark_settings import ENGINE, catalog, derby_metastore_url
from ettl_assets.thrift_server import (
    LOOPBACK_HOST,
    THRIFT_SERVER_CLASS,
    ServerFiles,
    accepts_connections,
    answers_sql,
    free_port,
    server_command,
)

IDLE_MINUTES_ENV = "ETTL_WARM_SPARK_IDLE_MINUTES"
DBT_TARGET_ENV = "ETTL_DBT_TARGET"  # profiles.yml: overrides the deployment's target
READY_TIMEOUT_SECONDS = 240
WATCH_POLL_SECONDS = 5.0

Log = Callable[[str], None]


class WarmSparkError(RuntimeError):
    """The warm server could not be started; the message says why and which log to read."""


def idle_minutes() -> float | None:
    """The configured idle time, None when the warm server is off (the default)."""
    raw = os.environ.get(IDLE_MINUTES_ENV, "").strip()
    if not raw:
        return None
    try:
        minutes = float(raw)
    except ValueError:
        minutes = 0.0
    if minutes <= 0:
        raise ValueError(f"{IDLE_MINUTES_ENV}={raw!r}: expected a number of minutes above 0 "
                         "(unset it for an embedded Spark in each dbt step)")  # fmt: skip
    return minutes


class WarmServerFiles(ServerFiles):
    """The warm server's pid and log, and its port, watchdog and locks."""

    @property
    def port(self) -> Path:
        return self.root / "server.port"

    @property
    def start_lock(self) -> Path:
        return self.root / "start.lock"

    @property
    def in_use_lock(self) -> Path:
        return self.root / "in-use.lock"

    @property
    def last_used(self) -> Path:
        return self.root / "last-used"

    @property
    def watchdog_pid(self) -> Path:
        return self.root / "watchdog.pid"


def dbt_environment(port: int) -> dict[str, str]:
    """What points dbt (profiles.yml) at the warm server on `port`."""
    return {DBT_TARGET_ENV: "thrift", settings.SPARK_HOST_ENV: LOOPBACK_HOST,
            settings.SPARK_PORT_ENV: str(port)}  # fmt: skip


def server_files(data_dir: Path) -> WarmServerFiles:
    return WarmServerFiles(data_dir / "warm-spark")


def running_server(files: WarmServerFiles) -> tuple[int, int] | None:
    """(pid, port) of the data dir's warm server if it is alive."""
    pid = pid_from_file(files.pid, THRIFT_SERVER_CLASS)
    try:
        return (pid, int(files.port.read_text())) if pid is not None else None
    except (FileNotFoundError, ValueError):
        return None


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def serving(data_dir: Path, minutes: float, java_options: str, log: Log) -> Iterator[int]:
    """The data dir's warm server, started if it is not running, held in use until the block
    ends. Yields its port on loopback."""
    files = server_files(data_dir)
    private_dir(files.root)
    # Shared first: while the watchdog stops the server (it holds this lock exclusively), wait,
    # then start a new one instead of connecting to the one going away.
    with _flock(files.in_use_lock, fcntl.LOCK_SH):
        with _flock(files.start_lock, fcntl.LOCK_EX):
            found = running_server(files)
            # A pid file naming a live process that does not listen on the port is stale (the
            # server died and its pid was reused): start a new server.
            if found and accepts_connections(LOOPBACK_HOST, found[1]):
                log(f"warm Spark server on {LOOPBACK_HOST}:{found[1]} (pid {found[0]})")
                port = found[1]
                _ensure_watchdog(data_dir, files, minutes)
            else:
                port = _start(data_dir, files, minutes, java_options, log)
        try:
            yield port
        finally:
            files.last_used.touch()


def server_environment() -> dict[str, str]:
    """The step's environment less the PII key, which dbt sends in each Thrift session instead
    (docs/security.md); bound to loopback."""
    env = {name: value for name, value in os.environ.items() if name != PII_KEY_ENV}
    return env | {"SPARK_LOCAL_IP": LOOPBACK_HOST}


def _start(
    data_dir: Path, files: WarmServerFiles, minutes: float, java_options: str, log: Log
) -> int:
    port = free_port()
    conf = ENGINE | catalog(settings.warehouse_dir(data_dir), derby_metastore_url(data_dir),
                            data_dir, java_options)  # fmt: skip
    metastore = metastore_lock.locked(log, data_dir)
    with metastore, files.log.open("ab") as output:
        server = subprocess.Popen(
            server_command(LOOPBACK_HOST, port, conf), stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=files.root, start_new_session=True,
            pass_fds=(metastore.fileno(),),  # the server holds the metastore lock while it lives
            env=server_environment(),
        )  # fmt: skip
    files.port.write_text(str(port))
    files.pid.write_text(str(server.pid))
    log(f"starting a warm Spark server on {LOOPBACK_HOST}:{port} (pid {server.pid}, log "
        f"{files.log}); it stops after {minutes:g} idle minutes")  # fmt: skip
    began = time.monotonic()
    while not answers_sql(LOOPBACK_HOST, port):
        if not alive(server.pid) or time.monotonic() - began > READY_TIMEOUT_SECONDS:
            stop_process_group(server.pid)
            files.pid.unlink(missing_ok=True)
            raise WarmSparkError(f"the warm Spark server did not start; see {files.log}:\n"
                                 + log_tail(files.log))  # fmt: skip
        time.sleep(1)
    log(f"warm Spark server ready after {time.monotonic() - began:.0f} s")
    files.last_used.touch()
    _ensure_watchdog(data_dir, files, minutes)
    return port


def _ensure_watchdog(data_dir: Path, files: WarmServerFiles, minutes: float) -> None:
    """Start the server's watchdog unless it runs (it could have been killed alone)."""
    if pid_from_file(files.watchdog_pid, __name__) is not None:
        return
    with files.log.open("ab") as output:
        watchdog = subprocess.Popen(
            [sys.executable, "-m", __name__, "--data-dir", str(data_dir), "--idle-minutes",
             str(minutes)],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the step that starts it
        )  # fmt: skip
    files.watchdog_pid.write_text(str(watchdog.pid))


def stop(data_dir: Path, log: Log) -> int | None:
    """Stop the data dir's warm server if it runs, once the steps using it are done: before an
    embedded Spark (a dbt step with the warm server off, a backup, a restore) needs the
    metastore it holds. Its pid, or None."""
    files = server_files(data_dir)
    if running_server(files) is None:
        return None
    log("stopping the warm Spark server, which holds the metastore, once no dbt step uses it")
    with _flock(files.in_use_lock, fcntl.LOCK_EX):
        pid = _stop_server(files)
    if pid is not None:
        log(f"warm Spark server stopped (pid {pid})")
    return pid


def _stop_server(files: WarmServerFiles) -> int | None:
    found = running_server(files)
    files.pid.unlink(missing_ok=True)
    files.port.unlink(missing_ok=True)
    if found:
        stop_process_group(found[0])
        return found[0]
    return None


def watch(data_dir: Path, minutes: float, poll: float = WATCH_POLL_SECONDS) -> None:
    """Stop the server once no step has used it for `minutes`; return when it is gone."""
    files = server_files(data_dir)
    idle_seconds = minutes * 60
    while running_server(files):
        with files.in_use_lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # a step is using it
            else:
                idle = time.time() - files.last_used.stat().st_mtime
                if idle >= idle_seconds:
                    pid = _stop_server(files)
                    print(f"warm Spark server (pid {pid}) stopped after {idle / 60:.1f} idle "
                          "minutes", flush=True)  # fmt: skip
                    return
        time.sleep(poll)


def main() -> None:
    parser = argparse.ArgumentParser(description="Stop a data dir's warm Spark server when idle.")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--idle-minutes", type=float, required=True)
    args = parser.parse_args()
    watch(args.data_dir, args.idle_minutes)


if __name__ == "__main__":
    main()
