"""Long-lived Spark processes this project starts on this machine (the Thrift server, a standalone
cluster's master and workers): whether one is alive, how to stop it with its children, and the
end of its log for an error message."""

import contextlib
import os
import signal
import time
from pathlib import Path

STOP_TIMEOUT_SECONDS = 20


def alive(pid: int) -> bool:
    try:  # reap it if it is our own child that exited (a zombie still answers kill 0)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_group(pid: int) -> None:
    """SIGTERM to the process group led by `pid`, SIGKILL if it is still alive after a while."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):  # also whatever outlived the group's leader
        os.killpg(pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
