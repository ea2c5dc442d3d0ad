"""Peak resident memory of every process in a command's tree, sampled from /proc (Linux).

A command's Python processes (the Dagster CLI, each step process, dbt) are told apart from the
JVM Spark runs in by the executable they run, so "every Python process stays under 4 GB" can be
checked while the JVM's own heap is reported separately. Work done inside the bench's own
process (P1's in-process ingest) is sampled the same way, with `sampling(os.getpid())`.
"""

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.25


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in (...) may hold spaces; the parent pid is the 2nd field after it.
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children, pending, found = _children(), [root], []
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _kind(pid: int) -> str:
    executable = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    if executable.startswith("python"):
        return "python"
    return "java" if executable == "java" else "other"


@dataclass
class PeakMemory:
    """Largest RSS seen of any one process of each kind (python, java, other), in bytes."""

    peak: dict[str, int] = field(default_factory=dict)

    def sample(self, root: int) -> None:
        for pid in _tree(root):
            try:
                kind, rss = _kind(pid), _rss_bytes(pid)
            except OSError:  # it ended between listing and reading
                continue
            self.peak[kind] = max(self.peak.get(kind, 0), rss)

    def merge(self, other: "PeakMemory") -> None:
        for kind, rss in other.peak.items():
            self.peak[kind] = max(self.peak.get(kind, 0), rss)


@contextmanager
def sampling(root: int) -> Iterator[PeakMemory]:
    """Sample the process tree of `root` every SAMPLE_SECONDS until the block ends."""
    memory = PeakMemory()
    done = threading.Event()

    def sampler() -> None:
        while not done.is_set():
            memory.sample(root)
            done.wait(SAMPLE_SECONDS)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        yield memory
    finally:
        done.set()
        thread.join()
        memory.sample(root)  # a block shorter than one interval still gets a sample


def run_measured(command: list[str], log: Path, env: dict[str, str]) -> tuple[float, PeakMemory]:
    """Run `command` to completion (output to `log`); wall seconds and peak memory per kind.
    Raises CalledProcessError naming the log if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        began = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        with sampling(process.pid) as memory:
            returncode = process.wait()
            seconds = time.monotonic() - began
    if returncode != 0:
        raise subprocess.CalledProcessError(returncode, f"{' '.join(command)} (log: {log})")
    return seconds, memory
