"""The backup location (any fsspec URL: a local path, file://, memory://, s3://...), copies that
hash what they move, and progress on the terminal.

One read per file: the sha256 is computed over the very bytes being copied, so a backup's
checksum is of what it wrote, and a restore's of what it read.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import fsspec
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from ettl_assets import settings, warm_spark
from ettl_assets.metastore_lock import ACQUIRED, RELEASED, holding_embedded_metastore
from ettl_assets.private_files import private_dir, private_file

CHUNK = 1 << 20


def open_location(url: str) -> tuple[AbstractFileSystem, str]:
    """The filesystem behind `url` and the location's path on it."""
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path.rstrip("/")


def make_private_dirs(fs: AbstractFileSystem, path: str) -> None:
    """A folder of a backup: owner-only on a local disk (a backup holds bronze, and bronze holds
    personal data in clear); elsewhere, the store's own access control applies."""
    if isinstance(fs, LocalFileSystem):
        private_dir(Path(path))
    else:
        fs.makedirs(path, exist_ok=True)


@contextmanager
def open_private(fs: AbstractFileSystem, path: str) -> Iterator[BinaryIO]:
    """A new file of a backup, open for binary writing: owner-only (0600) on a local disk."""
    if isinstance(fs, LocalFileSystem):
        with private_file(Path(path)) as handle:
            yield handle
    else:
        with fs.open(path, "wb") as handle:
            yield handle


def copy_hashing(source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
    """Copy to the end of `source`; return (bytes copied, their sha256)."""
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: source.read(CHUNK), b""):
        digest.update(block)
        target.write(block)
        size += len(block)
    return size, digest.hexdigest()


class ByteCount:
    """The bytes copied so far, as the text of each progress line (ettl/progress.py)."""

    def __init__(self, advance: Callable[[str], None], total_bytes: int):
        self._advance, self.total_bytes, self.done_bytes = advance, total_bytes, 0

    def advance(self, size: int) -> None:
        self.done_bytes += size
        done, total = human_size(self.done_bytes), human_size(self.total_bytes)
        self._advance(f"files ({done} of {total})")


def human_size(size: int) -> str:
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def lock_messages(out: Callable[[str], None]) -> Callable[[str], None]:
    """What to show of the metastore lock: waiting for it; acquiring and releasing are routine."""
    return lambda message: None if message in (ACQUIRED, RELEASED) else out(f"  {message}")


@contextmanager
def metastore_to_itself(out: Callable[[str], None]) -> Iterator[None]:
    """On the embedded Spark, the metastore lock held (no dbt step rewrites a table meanwhile),
    after stopping the warm Spark server that would hold it (once no step uses it)."""
    log = lock_messages(out)
    if settings.embedded_spark():
        warm_spark.stop(settings.data_dir(), log)
    with holding_embedded_metastore(log):
        yield
