"""Stopping the long-lived Spark processes: each group ends, however it treats SIGTERM, and a
process that exited but was never reaped does not pass for a live server."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from ettl_assets import server_processes

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('ready', flush=True); time.sleep(120)"
)
# A child inherits an ignored SIGTERM: Dagster maps SIGTERM to SIGINT's handler, which a pytest
# started in the background of a shell ignores. So the polite one asks for the default.
HONOURS_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_DFL);"
    " print('ready', flush=True); time.sleep(120)"
)


def started(code: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout.readline().strip() == "ready"  # its handler is in place
    return process


def test_every_group_is_stopped_and_one_ignoring_sigterm_is_killed(monkeypatch):
    monkeypatch.setattr(server_processes, "STOP_TIMEOUT_SECONDS", 2)
    stubborn = [started(IGNORES_SIGTERM) for _ in range(2)]
    polite = started(HONOURS_SIGTERM)
    try:
        server_processes.stop_process_groups([p.pid for p in [*stubborn, polite]])
        assert [p.wait(timeout=10) for p in stubborn] == [-signal.SIGKILL] * 2
        assert polite.wait(timeout=10) == -signal.SIGTERM
    finally:
        for process in [*stubborn, polite]:
            process.kill()
            process.wait()


def test_a_process_that_exited_but_was_never_reaped_is_not_alive():
    """The parent execs into a sleep that never waits, so its exited child stays a zombie: what
    a server becomes when its parent is gone and nothing reaps orphans. kill 0 still finds it."""
    parent = subprocess.Popen(["sh", "-c", "sleep 0.1 & exec sleep 30"])
    try:
        children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
        deadline = time.monotonic() + 10
        while not children.read_text().split() and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = map(int, children.read_text().split())
        while "Z" not in Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1][:3]:
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.05)
        assert not server_processes.alive(child)
        assert server_processes.alive(parent.pid)
    finally:
        parent.kill()
        parent.wait()
