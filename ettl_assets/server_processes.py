"""Long-lived Spark processes this project starts on this machine (the Thrift server, a standalone
cluster's master and workers): whether one is alive, how to stop it with its children, and the
end of its log for an error message."""

import contextlib
import os
import signal
import time
from collections.abc import Iterable
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
    return not _zombie(pid)


def pid_from_file(pid_file: Path, command_part: str) -> int | None:
    """The pid that `pid_file` names if that process is alive and is still the one started
    there: its command line names `command_part` (a JVM's main class, a module). A pid file can
    outlive its process, and on a busy machine the pid soon belongs to another process, which
    must never be taken for the server, let alone stopped."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):  # no file, not a number, or no such process
        return None
    # Right after exec the command line can still read empty: that cannot tell, so it counts.
    ours = not command or command_part.encode() in command
    return pid if ours and alive(pid) else None


def _zombie(pid: int) -> bool:
    """An exited process nobody has reaped yet (another's child, or an orphan where no init
    reaps): it has stopped for good."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (or it just went): kill 0 answered, so take it as alive
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def stop_process_groups(pids: Iterable[int]) -> None:
    """SIGTERM to the process group led by each of `pids`, then SIGKILL to each group (also
    whatever outlived its leader) once every leader has exited or after a while. The groups
    stop side by side: a cluster's JVMs take one timeout at most, not one each."""
    signalled = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            signalled.append(pid)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while any(alive(pid) for pid in signalled) and time.monotonic() < deadline:
        time.sleep(0.25)
    for pid in signalled:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def stop_process_group(pid: int) -> None:
    stop_process_groups([pid])


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
