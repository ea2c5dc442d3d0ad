"""The PII hashing key is on no command line, in no other process's environment, and in no file
the platform writes (logs, Dagster's event log, compiled SQL, lineage events, crash logs), while
and after a daily dbt step hashes personal data (docs/security.md)."""

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import dagster as dg

from ettl_assets import settings
from ettl_assets.lineage_events.finished_runs import emit_run_lineage
from ettl_assets.pii_key import PII_KEY_ENV
from tests.e2e.helpers import ARTIFACTS, PROJECT_ROOT, materialize

DAY = "2013-01-03"  # inside the window the shared pipeline built: its bronze is there


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:  # the process ended, or belongs to another user
        return None


def _parent(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat") or b""
    # "pid (command) state ppid ...": the command may hold spaces and parentheses.
    fields = stat.rsplit(b")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 else 0


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


class ProcessScanner:
    """Reads /proc/<pid>/cmdline of every process, and the environment of each one this user may
    read, over and over, until stopped; keeps each process found holding the key."""

    def __init__(self, key: bytes) -> None:
        self.key, self.rounds, self.processes_seen = key, 0, set()
        self.session_marker = f"ETTL_DATA_DIR={settings.data_dir()}\0".encode()
        self.on_command_line: dict[int, str] = {}
        # pid -> (command, whether it descends from this test's process), taken while it runs
        self.in_environment: dict[int, tuple[str, bool]] = {}
        self.our_jvms: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scan, daemon=True)

    def __enter__(self) -> "ProcessScanner":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def scan_once(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            command = _read(f"/proc/{pid}/cmdline")
            if command is None:
                continue
            self.processes_seen.add(pid)
            name = command.split(b"\0", 1)[0].decode(errors="replace")
            if self.key in command:
                self.on_command_line[pid] = name
            environment = _read(f"/proc/{pid}/environ") or b""
            # Ours: below this test, or started by this test session (its own data dir): when dbt
            # ends, its JVM may outlive it for a moment, adopted by init.
            ours = _descends_from(pid, os.getpid()) or self.session_marker in environment
            if self.key in environment:
                self.in_environment[pid] = (name, ours)
            if ours and name.endswith("/java"):
                self.our_jvms.add(pid)
        self.rounds += 1

    def _scan(self) -> None:
        while not self._stop.is_set():
            self.scan_once()
            time.sleep(0.1)


def test_the_scanner_finds_a_key_on_another_process_command_line():
    """So the test below can fail: a process given the key as an argument is found."""
    key = os.environ[PII_KEY_ENV].encode()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", key.decode()])
    try:
        # Until the child has exec'd, /proc shows the command line it forked from (pytest's).
        deadline = time.monotonic() + 10
        while b"time.sleep(30)" not in (_read(f"/proc/{holder.pid}/cmdline") or b""):
            assert time.monotonic() < deadline, "the key holder never started"
            time.sleep(0.01)
        scanner = ProcessScanner(key)
        scanner.scan_once()
    finally:
        holder.kill()
        holder.wait()
    assert holder.pid in scanner.on_command_line
    assert scanner.in_environment[holder.pid][1]  # it inherited the key (conftest), and is ours


def _files_holding(key: bytes, roots: list[Path]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            if path.is_file() and not path.is_symlink() and key in path.read_bytes():
                found.append(str(path))
    return found


def test_a_daily_dbt_step_hashes_with_a_key_no_other_process_or_file_shows(pipeline):
    key = os.environ[PII_KEY_ENV].encode()
    started = time.time()
    with ProcessScanner(key) as scanner:
        output = materialize("silver/stg_passengers__bookings", DAY, "pii-key-exposure")
    assert "stg_passengers__bookings" in output
    # Without a daemon nothing sends a `dagster asset materialize` run's OpenLineage events
    # (docs/lineage.md): send them as the sensors would, so the events are scanned too.
    from ettl_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs(limit=1)
        sent = emit_run_lineage(
            instance, run.run_id, defs.resolve_asset_graph(), logging.getLogger(__name__)
        )
    assert sent > 0
    assert scanner.rounds > 50 and len(scanner.processes_seen) > 10, scanner.rounds
    assert scanner.our_jvms  # the embedded Spark that hashed ran while the scan went on

    assert not scanner.on_command_line, f"the key is on a command line: {scanner.on_command_line}"
    # The key is in the environment of the step's own processes only: this test's process,
    # which was given it, and its children (dagster, dbt, the JVM dbt starts).
    strangers = {pid: name for pid, (name, ours) in scanner.in_environment.items() if not ours}
    assert not strangers, f"the key is in other processes' environment: {strangers}"

    roots = [
        settings.data_dir(),  # logs, OpenLineage events, dbt state, warehouse, metastore
        settings.dagster_home(),  # Dagster's event log, run storage, compute logs
        PROJECT_ROOT / "dbt_project" / "target",  # compiled SQL, run results, manifests
        PROJECT_ROOT / "dbt_project" / "logs",
        ARTIFACTS,  # what the dagster command printed
    ]
    # A JVM writes its crash log in its working directory, else in the temp dir.
    pattern = "hs_err_pid*.log"
    candidates = [*PROJECT_ROOT.rglob(pattern), *settings.data_dir().rglob(pattern),
                  *Path(tempfile.gettempdir()).glob(pattern)]  # fmt: skip
    crash_logs = [path for path in candidates if path.stat().st_mtime > started]
    leaked = _files_holding(key, roots) + [str(p) for p in crash_logs if key in p.read_bytes()]
    assert not leaked, f"the key is written in: {leaked}"
    compiled = list((PROJECT_ROOT / "dbt_project" / "target").rglob("stg_passengers__bookings.sql"))
    assert compiled and any("getenv" in p.read_text() for p in compiled)  # the SQL that hashed
