"""Read one landing file into contract-typed rows, quarantined rows and the schema it arrived in.

Two stages, so every format gets the same row-level handling:
1. parse: the file becomes a `RawDelivery` (columns as delivered, as text for text formats, each
   row's line number) plus the rows that could not be parsed at all (wrong number of fields,
   bytes that are not UTF-8, a JSON line that is not JSON);
2. conform: each declared column (or its alias) is cast to its contract type; a row with a value
   that does not cast goes to quarantine with the reason, the good rows go on.
A file that cannot be read as a whole (missing, truncated, corrupt) raises `LandingFileError`
naming the file. All IO goes through pyarrow: no Spark JVM in bronze (docs/design-decisions.md#d1).
"""

import gzip
import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ettl_assets.bronze.registry import ARROW_TYPES, SourceSpec

# Contract type name of each Arrow type a delivery can carry ("null": no value to judge by).
CONTRACT_TYPE_OF = {str(arrow): name for name, arrow in ARROW_TYPES.items()} | {
    "null": "null",
    "int8": "bigint", "int16": "bigint", "int32": "bigint", "uint8": "bigint",
    "uint16": "bigint", "uint32": "bigint", "float": "double", "large_string": "string",
    "timestamp[ns]": "timestamp", "timestamp[us]": "timestamp", "timestamp[ms]": "timestamp",
    "timestamp[ns, tz=UTC]": "timestamp", "timestamp[s]": "timestamp",
}  # fmt: skip


class LandingFileError(ValueError):
    """A landing file cannot be read as a whole; the message names the file."""


@dataclass(frozen=True)
class RejectedRow:
    # Its fields are the quarantine table's columns (bronze_layout in dbt_project.yml).
    line_number: int  # in the file; a JSON array's record position, a Parquet file's row position
    raw_text: str
    reason: str


@dataclass
class RawDelivery:
    """A parsed file before its contract is applied."""

    table: pa.Table
    line_numbers: list[int]  # of each row of `table`
    raw_text: Callable[[int], str]  # line number -> the row as it was delivered
    delivered_types: dict[str, str]  # column -> contract type name the values look like
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class Delivery:
    """What one landing file holds, judged against the source's contract."""

    table: pa.Table  # rows that conform: declared columns in contract type, then extras
    rejected: list[RejectedRow]  # rows sent to quarantine, with the reason
    delivered_schema: list[tuple[str, str]]  # (column, type) as the source sent them

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.rejected)


# ---------------------------------------------------------------- reading bytes


def _decompressed(data: bytes, name: str) -> bytes:
    if name.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise LandingFileError(f"not a valid gzip file: {exc}") from exc
    return data


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _without_invalid_utf8(data: bytes) -> tuple[bytes, list[RejectedRow]]:
    """Blank out lines that are not UTF-8 (so line numbers stay true) and reject them."""
    try:
        data.decode("utf-8")
        return data, []
    except UnicodeDecodeError:
        pass
    kept, rejected, offset = [], [], 0
    for number, line in enumerate(_lines(data), start=1):
        try:
            line.decode("utf-8")
            kept.append(line)
        except UnicodeDecodeError as exc:
            reason = f"invalid UTF-8 at byte offset {offset + exc.start} of the file"
            rejected.append(RejectedRow(number, line.decode("utf-8", "replace"), reason))
            kept.append(b"")
        offset += len(line) + 1
    if rejected and rejected[0].line_number == 1:
        raise LandingFileError(f"header line: {rejected[0].reason}")
    return b"\n".join(kept) + b"\n", rejected


def _line_getter(lines: list[bytes]) -> Callable[[int], str]:
    return lambda number: lines[number - 1].decode("utf-8", "replace").rstrip("\r")


# ---------------------------------------------------------------- parse per format


# What every value must look like for a cast to the type to possibly succeed. A failed cast is
# slow (an exception per try: it was 60% of a bronze ingest, profiled in "Performance"), a regex
# is not; the cast below still decides.
MAY_PARSE_AS = {
    "bigint": ("^[+-]?[0-9]+$", False),
    "double": (r"^[+-]?([0-9]|\.[0-9]|inf|nan)", True),
    "boolean": ("^(true|false|1|0)$", True),
    "date": ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", False),
    "timestamp": ("^[0-9]{4}-[0-9]{2}-[0-9]{2}", False),
}


def _text_type(values: pa.ChunkedArray) -> str:
    """The narrowest contract type all of a text column's values parse as."""
    present = pc.utf8_trim_whitespace(pc.drop_null(values))
    if len(present) == 0:
        return "null"
    for name, (pattern, ignore_case) in MAY_PARSE_AS.items():
        if not pc.all(pc.match_substring_regex(present, pattern, ignore_case=ignore_case)).as_py():
            continue
        try:
            present.cast(ARROW_TYPES[name])
            return name
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return "string"


def _parse_csv(data: bytes) -> RawDelivery:
    data, rejected = _without_invalid_utf8(data)
    lines = _lines(data)
    if not data.strip():
        return RawDelivery(pa.table({}), [], _line_getter(lines), {}, rejected)

    def wrong_field_count(row: Any) -> str:
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        rejected.append(RejectedRow(row.number, row.text, reason))
        return "skip"

    header = next(line for line in lines if line.strip())
    names = pa_csv.read_csv(io.BytesIO(header + b"\n")).schema.names
    table = pa_csv.read_csv(
        io.BytesIO(data),
        # Single-threaded so the parser reports each bad row's line number.
        read_options=pa_csv.ReadOptions(use_threads=False),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=wrong_field_count),
        # Everything as text first: a bad value is judged per row below, not per file.
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    # Row i of the table is the i-th non-empty data line not skipped (values holding a line
    # break inside quotes would shift this; none of the sources here send them).
    skipped = {row.line_number for row in rejected}
    line_numbers = [
        number
        for number, line in enumerate(lines[1:], start=2)
        if line.strip() and number not in skipped
    ]
    types = {name: _text_type(table[name]) for name in table.column_names}
    return RawDelivery(table, line_numbers, _line_getter(lines), types, rejected)


def _json_type(values: list[Any], as_text: pa.ChunkedArray) -> str:
    """The contract type of a JSON column's values (`as_text`: the same values as text)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "null"
    if kinds == {str}:  # JSON has no date type: dates and times arrive as text
        return _text_type(as_text)
    if kinds == {bool}:
        return "boolean"
    if kinds <= {int}:
        return "bigint"
    if kinds <= {int, float}:
        return "double"
    return "string"


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _raw_from_records(
    records: list[tuple[int, dict]], raw_text: Callable[[int], str], rejected: list[RejectedRow]
) -> RawDelivery:
    names: list[str] = []
    for _, record in records:
        names.extend(name for name in record if name not in names)
    columns = {name: [record.get(name) for _, record in records] for name in names}
    as_text = {name: [_as_text(v) for v in values] for name, values in columns.items()}
    table = pa.table({name: pa.array(values, pa.string()) for name, values in as_text.items()})
    types = {name: _json_type(values, table[name]) for name, values in columns.items()}
    return RawDelivery(table, [number for number, _ in records], raw_text, types, rejected)


def _parse_jsonl(data: bytes) -> RawDelivery:
    data, rejected = _without_invalid_utf8(data)
    lines = _lines(data)
    records: list[tuple[int, dict]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines) and not data.endswith(b"\n"):
                # A last line cut short is a truncated transfer: the rest of the file is suspect.
                message = f"line {number} is cut short ({exc}): truncated file"
                raise LandingFileError(message) from exc
            rejected.append(RejectedRow(number, line.decode(), f"not a JSON object: {exc}"))
            continue
        if not isinstance(record, dict):
            rejected.append(RejectedRow(number, line.decode(), "not a JSON object"))
            continue
        records.append((number, record))
    return _raw_from_records(records, _line_getter(lines), rejected)


def _parse_json_array(data: bytes) -> RawDelivery:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise LandingFileError(f"not valid JSON at byte offset {exc.pos}: {exc.msg}") from exc
    if not isinstance(document, list):
        raise LandingFileError("expected a JSON array of objects")
    rejected, records = [], []
    for number, record in enumerate(document, start=1):  # "line number" = record position
        if isinstance(record, dict):
            records.append((number, record))
        else:
            rejected.append(RejectedRow(number, json.dumps(record), "not a JSON object"))
    return _raw_from_records(records, lambda number: json.dumps(document[number - 1]), rejected)


def _parse_parquet(data: bytes) -> RawDelivery:
    table = pq.read_table(io.BytesIO(data))
    types = {f.name: CONTRACT_TYPE_OF.get(str(f.type), str(f.type)) for f in table.schema}

    def raw_text(number: int) -> str:  # the row's values as JSON, built only when quarantined
        return json.dumps(table.slice(number - 1, 1).to_pylist()[0], default=str)

    return RawDelivery(table, list(range(1, table.num_rows + 1)), raw_text, types)


PARSERS: dict[str, Callable[[bytes], RawDelivery]] = {
    "csv": _parse_csv,
    "jsonl": _parse_jsonl,
    "json": _parse_json_array,
    "parquet": _parse_parquet,
}


# ---------------------------------------------------------------- conform to the contract


def _cast(values: pa.ChunkedArray, target: pa.DataType) -> tuple[pa.Array, dict[int, str]]:
    """Cast a column; on failure, find the values that do not cast (row -> bad value)."""
    if pa.types.is_string(values.type):
        values = pc.utf8_trim_whitespace(values)
    try:
        return values.cast(target), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # rare path: only a file with bad values gets here, so per-value is fine
    good, bad = [], {}
    for row, value in enumerate(values.to_pylist()):
        try:
            good.append(pa.array([value], values.type).cast(target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            good.append(None)
            bad[row] = value
    return pa.array(good, target), bad


def conform(raw: RawDelivery, spec: SourceSpec) -> Delivery:
    """Contract columns (under their delivered name) in contract type; extras as delivered."""
    if raw.table.num_columns == 0:  # an empty file: nothing delivered, nothing to judge
        return Delivery(spec.arrow_schema.empty_table(), list(raw.rejected), [])
    contract = {c.name: c for c in spec.stored_columns}
    delivered_types = dict(raw.delivered_types)
    arrays, fields = [], []
    problems: dict[int, list[str]] = {}
    for name in raw.table.column_names:
        if name not in contract:
            continue
        column = contract[name]
        array, bad = _cast(raw.table[name], column.arrow_type)
        for row, value in bad.items():
            problems.setdefault(row, []).append(f"{name}: {value!r} is not {column.data_type}")
        if 0 < len(bad) < (len(raw.table) - raw.table[name].null_count) / 2:
            # A few bad values are bad rows, not a new column type: the delivery still follows
            # the contract (a column whose values mostly fail is reported as a type change).
            delivered_types[name] = column.data_type
        arrays.append(array)
        fields.append(pa.field(name, column.arrow_type))
    for name in raw.table.column_names:
        if name not in contract:
            arrays.append(raw.table[name])
            fields.append(raw.table.schema.field(name))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    rejected = list(raw.rejected)
    if problems:
        keep = pa.array([row not in problems for row in range(table.num_rows)])
        table = table.filter(keep)
        for row, reasons in problems.items():
            number = raw.line_numbers[row]
            rejected.append(RejectedRow(number, raw.raw_text(number), "; ".join(reasons)))
    delivered = [(name, delivered_types.get(name, "null")) for name in raw.table.column_names]
    return Delivery(table, sorted(rejected, key=lambda r: r.line_number), delivered)


def read_delivery(data: bytes, name: str, spec: SourceSpec) -> Delivery:
    """One delivered file's bytes (`name`: its path or URL, for messages and .gz)."""
    try:
        raw = PARSERS[spec.format](_decompressed(data, name))
    except LandingFileError as exc:
        raise LandingFileError(f"{name}: {exc}") from exc
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise LandingFileError(f"{name}: cannot read as {spec.format}: {exc}") from exc
    return conform(raw, spec)


def read_landing_file(path: Path, spec: SourceSpec) -> Delivery:
    if not path.is_file():
        raise LandingFileError(
            f"{path}: landing file for source {spec.name!r} does not exist (expected at this path)"
        )
    return read_delivery(path.read_bytes(), str(path), spec)
