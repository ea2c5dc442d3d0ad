"""Folders and files only their owner can read: the data dir, and everything in it that holds
personal data in clear (landing copies, bronze, quarantine, backups, the key). docs/security.md
lists them.

The modes are set when a folder or file is created, never after: a file written with the
default umask and narrowed later is readable by anyone in between. A folder or file that already
exists keeps its mode (a data dir made before these modes: `chmod -R go-rwx data`).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and each missing folder above it owner-only (0700); return `path`."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        # mkdir's mode is narrowed by the umask, never widened: at most 0700.
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    return path


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file, created owner-only (0600) in a private folder, open for binary writing.
    It must not exist: an existing file would keep its mode (write a temp file and rename it
    over the old one)."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        yield handle


def write_private(path: Path, content: bytes) -> None:
    """`content` to `path` (replaced whole, by a rename), readable by the owner only."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    try:
        with private_file(temp) as handle:
            handle.write(content)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
