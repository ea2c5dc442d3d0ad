"""Who holds an OS file lock, read from /proc/locks (Linux): the metastore lock's holder for
`ettl status`, and a Spark that still has the Derby metastore open."""

from pathlib import Path


def lock_holders(path: Path) -> tuple[list[int], list[int]]:
    """(holding, waiting) pids of the locks (flock or POSIX) on `path`; empty when there is no
    such file, or no /proc/locks to read."""
    try:
        inode = path.stat().st_ino
        table = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return [], []
    holding, waiting = [], []
    for line in table:
        fields = line.split()
        blocked = "->" in fields
        fields = [f for f in fields if f != "->"]
        # <n>: FLOCK|POSIX|OFDLCK ADVISORY WRITE|READ <pid> <major:minor:inode> <start> <end>
        if len(fields) >= 6 and fields[5].split(":")[-1] == str(inode):
            (waiting if blocked else holding).append(int(fields[4]))
    return holding, waiting
