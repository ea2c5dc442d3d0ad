"""Every field of a backup's manifest, checked before restore writes anything.

A manifest comes from wherever the backup was kept, so restore trusts none of it: names and types
go into Spark SQL (restore_tables.sql), locations and paths into folders under the warehouse.
Each field must be exactly what `ettl backup` writes:

    names         identifiers (letters, digits, underscore; not starting with a digit)
    tier, schema  bronze or gold, and the schema is the tier's
    column types  parsed as Spark SQL data types (spark_types.py)
    location      <schema>.db/<name>, relative to the warehouse
    file paths    inside the table's location, folder names without "." or "/" tricks
    sizes, rows   non-negative integers, a table's totals the sum of its files'
    sha256        64 lower-case hex digits

The first bad field stops the check with one line naming it: `tables[3].columns[2].type: ...`.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ettl.backup.spark_types import SparkTypeError, parse_spark_type
from ettl_assets.settings import table_location

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}")
# A folder or file name under a table: partition folders (`flight_date=2013-01-02`, Spark
# escapes other characters as %XX) and data files. Not "." or "..", nor hidden: Spark skips
# names starting with "." or "_", and a backup never holds them.
PATH_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_=.%+-]{0,254}")
TIERS = ("bronze", "gold")

DOCUMENT_FIELDS = ("format", "created_at", "project_version", "data_dir", "tables")
TABLE_FIELDS = ("name", "tier", "schema", "columns", "partition_columns", "location", "rows",
                "bytes", "files")  # fmt: skip
COLUMN_FIELDS = ("name", "type")
FILE_FIELDS = ("path", "bytes", "rows", "sha256")


class ManifestFieldError(ValueError):
    """One field of the manifest is wrong; the message names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def check_document(document: Any, known_format: int) -> None:
    """Raise ManifestFieldError for the first field of `document` that is not as a backup
    writes it."""
    _object(document, "the manifest", DOCUMENT_FIELDS)
    if type(document["format"]) is not int or document["format"] != known_format:
        raise ManifestFieldError("format", f"{_show(document['format'])}: this version of ettl "
                                 f"reads format {known_format}")  # fmt: skip
    _string(document, "created_at", "created_at", _iso_time)
    _string(document, "project_version", "project_version", _matching(VERSION, "a version"))
    _string(document, "data_dir", "data_dir", _absolute_path)
    tables = _list(document["tables"], "tables")
    seen: set[tuple[str, str]] = set()
    for index, table in enumerate(tables):
        where = f"tables[{index}]"
        _check_table(table, where)
        key = (table["schema"], table["name"])
        if key in seen:
            raise ManifestFieldError(f"{where}.name", f"{'.'.join(key)} is listed twice")
        seen.add(key)


def _check_table(table: Any, where: str) -> None:
    _object(table, where, TABLE_FIELDS)
    _string(table, "name", f"{where}.name", _identifier)
    _string(table, "tier", f"{where}.tier", _one_of(TIERS))
    _string(table, "schema", f"{where}.schema", _one_of((table["tier"],), "its tier"))
    columns = _list(table["columns"], f"{where}.columns")
    if not columns:
        raise ManifestFieldError(f"{where}.columns", "empty: a table has at least one column")
    names = [_check_column(column, f"{where}.columns[{i}]") for i, column in enumerate(columns)]
    lowered = [name.lower() for name in names]  # Spark's column names are case-insensitive
    for index, name in enumerate(lowered):
        if name in lowered[:index]:
            raise ManifestFieldError(f"{where}.columns[{index}].name", f"{name!r} is listed twice")
    partitions = _list(table["partition_columns"], f"{where}.partition_columns")
    for index, _ in enumerate(partitions):
        _string(partitions, index, f"{where}.partition_columns[{index}]", _identifier)
    if [p.lower() for p in partitions] != lowered[len(lowered) - len(partitions) :] or (
        partitions and len(partitions) >= len(lowered)
    ):
        problem = "not the last columns of the table (after at least one data column)"
        raise ManifestFieldError(f"{where}.partition_columns", f"{_show(partitions)} are {problem}")
    location = table_location(table["schema"], table["name"])
    _string(table, "location", f"{where}.location", _one_of((location,), location))
    files = _list(table["files"], f"{where}.files")
    paths: set[str] = set()
    for index, file in enumerate(files):
        path = _check_file(file, f"{where}.files[{index}]", location)
        if path in paths:
            raise ManifestFieldError(f"{where}.files[{index}].path", f"{path!r} is listed twice")
        paths.add(path)
    for total in ("rows", "bytes"):
        _count(table, total, f"{where}.{total}")
        of_files = sum(file[total] for file in files)
        if table[total] != of_files:
            problem = f"is not the sum of its files' {total} ({of_files})"
            raise ManifestFieldError(f"{where}.{total}", f"{table[total]} {problem}")


def _check_column(column: Any, where: str) -> str:
    _object(column, where, COLUMN_FIELDS)
    _string(column, "name", f"{where}.name", _identifier)
    _string(column, "type", f"{where}.type", _spark_type)
    return column["name"]


def _check_file(file: Any, where: str, location: str) -> str:
    _object(file, where, FILE_FIELDS)
    _string(file, "path", f"{where}.path", _inside(location))
    _count(file, "bytes", f"{where}.bytes")
    _count(file, "rows", f"{where}.rows")
    _string(file, "sha256", f"{where}.sha256", _matching(SHA256, "a sha256 (64 hex digits)"))
    return file["path"]


# -- shapes


def _object(value: Any, where: str, fields: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise ManifestFieldError(where, f"{_show(value)} is not an object")
    for name in fields:
        if name not in value:
            raise ManifestFieldError(f"{where}.{name}" if where != "the manifest" else name,
                                     "missing")  # fmt: skip
    for name in value:
        if name not in fields:
            prefix = "" if where == "the manifest" else f"{where}."
            raise ManifestFieldError(f"{prefix}{_show(name)}", "not a field of a backup manifest")


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ManifestFieldError(where, f"{_show(value)} is not a list")
    return value


def _count(container: dict[str, Any], key: str, where: str) -> None:
    value = container[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ManifestFieldError(where, f"{_show(value)} is not a non-negative integer")


def _string(container: Any, key: Any, where: str, check: Callable[[str], str | None]) -> None:
    value = container[key]
    if not isinstance(value, str):
        raise ManifestFieldError(where, f"{_show(value)} is not a string")
    problem = check(value)
    if problem is not None:
        raise ManifestFieldError(where, f"{_show(value)} is not {problem}")


# -- string checks: None when the value is good, else what it should be


def _identifier(value: str) -> str | None:
    if IDENTIFIER.fullmatch(value):
        return None
    return "an identifier (letters, digits and _, not starting with a digit, at most 128)"


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    return lambda value: None if pattern.fullmatch(value) else what


def _one_of(allowed: tuple[str, ...], what: str | None = None) -> Callable[[str], str | None]:
    return lambda value: None if value in allowed else (what or " or ".join(allowed))


def _spark_type(value: str) -> str | None:
    try:
        parse_spark_type(value)
    except SparkTypeError as exc:
        return f"a Spark SQL type ({exc})"
    return None


def _iso_time(value: str) -> str | None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "an ISO 8601 time"
    return None if value.isprintable() else "an ISO 8601 time"


def _absolute_path(value: str) -> str | None:
    return None if value.startswith("/") and value.isprintable() else "an absolute path"


def _inside(location: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        parts = value.split("/")
        inside = value.startswith(f"{location}/") and len(parts) > location.count("/") + 1
        if inside and all(PATH_PART.fullmatch(p) for p in parts[location.count("/") + 1 :]):
            return None
        return f"a file in the table's folder {location}/ (names of letters, digits and _=.%+-)"

    return check


def _show(value: Any) -> str:
    """A value for a one-line message: repr, control characters escaped, long ones cut."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
