"""The landing root, where sources deliver their files: a local folder or any fsspec URL.

Bronze and the sensor only read it (read, exists, list, version); `ettl land`, the sample feeder,
is the only writer. Paths inside the zone are the registry's landing patterns ("flights/<day>.csv").
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ettl_assets import settings
from ettl_assets.private_files import write_private

# Where a filesystem's listing gives a version of a file without reading it (object stores: an
# ETag or a modification time). Without one, the version is a hash of the content.
VERSION_FIELDS = ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag", "md5Hash")


@dataclass(frozen=True)
class LandingZone:
    root: str  # as configured: an absolute local path or a URL
    fs: fsspec.AbstractFileSystem
    base: str  # the root in the filesystem's own terms

    @classmethod
    def at(cls, root: str | Path) -> "LandingZone":
        fs, base = fsspec.core.url_to_fs(str(root))
        return cls(str(root), fs, base.rstrip("/"))

    @classmethod
    def configured(cls) -> "LandingZone":
        return cls.at(settings.landing_root())

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    def name(self, relative: str) -> str:
        """How a file is named to people and in bronze's _source_file: its local path, or its
        URL on another filesystem."""
        path = self.path(relative)
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def read(self, relative: str) -> bytes | None:
        """The file's bytes, None when nothing was delivered there."""
        try:
            return self.fs.cat_file(self.path(relative))
        except (FileNotFoundError, IsADirectoryError):
            return None

    def glob(self, pattern: str) -> list[str]:
        """Paths relative to the root of the files matching `pattern` (one * per name)."""
        found = self.fs.glob(self.path(pattern))
        prefix = self.fs._strip_protocol(self.base).rstrip("/") + "/"
        return sorted(p[len(prefix) :] if p.startswith(prefix) else p for p in found)

    def version(self, relative: str) -> int | str:
        """Changes when the file is delivered again: the modification time (ns) of a local file,
        a listing field where the filesystem has one, else a hash of the content."""
        path = self.path(relative)
        if self.is_local:
            return os.stat(path).st_mtime_ns
        info = self.fs.info(path)
        for field in VERSION_FIELDS:
            if info.get(field) is not None:
                return f"{field}:{info[field]}"
        return "sha256:" + hashlib.sha256(self.fs.cat_file(path)).hexdigest()

    def write_if_changed(self, relative: str, content: bytes) -> bool:
        """Write `content` unless the file already holds exactly that; True if written. For the
        sample feeder only: nothing else writes into the landing zone."""
        if self.read(relative) == content:
            return False
        path = self.path(relative)
        if self.is_local:  # owner-only (personal data, docs/security.md), renamed over whole
            write_private(Path(path), content)
        else:  # object stores publish an object whole
            self.fs.pipe_file(path, content)
        return True
