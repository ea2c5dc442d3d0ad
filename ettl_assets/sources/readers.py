"""Read one landing file into an Arrow table that honours its source's column contract.

Declared columns get their contract type; columns the contract does not know are kept as they
arrived (bronze is the raw copy). All IO goes through pyarrow: no Spark JVM in bronze (trap 1).
"""

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from ettl_assets.sources.registry import SourceSpec


class LandingFileError(ValueError):
    """A landing file cannot be read under its contract; the message names the file."""


def _read_csv(path: Path, spec: SourceSpec) -> pa.Table:
    convert = pa_csv.ConvertOptions(
        column_types=spec.arrow_schema,
        # An empty CSV field is a missing value, for text columns too.
        null_values=[""],
        strings_can_be_null=True,
    )
    return pa_csv.read_csv(path, convert_options=convert)


def _read_jsonl(path: Path, spec: SourceSpec) -> pa.Table:
    # A key absent from a JSON line is a null value, as JSON writers drop nulls freely.
    parse = pa_json.ParseOptions(
        explicit_schema=spec.arrow_schema, unexpected_field_behavior="infer"
    )
    try:
        return pa_json.read_json(path, parse_options=parse)
    except pa.ArrowInvalid as exc:
        if "Empty JSON file" in str(exc):  # a delivery with no rows
            return spec.arrow_schema.empty_table()
        raise


def _read_json_array(path: Path, spec: SourceSpec) -> pa.Table:
    records = json.loads(path.read_bytes())
    if not isinstance(records, list):
        raise LandingFileError(f"{path}: expected a JSON array of objects")
    return pa.Table.from_pylist(records)


def _read_parquet(path: Path, spec: SourceSpec) -> pa.Table:
    return pq.read_table(path)


READERS: dict[str, Callable[[Path, SourceSpec], pa.Table]] = {
    "csv": _read_csv,
    "jsonl": _read_jsonl,
    "json": _read_json_array,
    "parquet": _read_parquet,
}


def conform_to_contract(table: pa.Table, spec: SourceSpec, path: Path) -> pa.Table:
    """Declared columns first, in contract order and type; undeclared columns after, untouched."""
    missing = [c.name for c in spec.columns if c.name not in table.column_names]
    if missing:
        raise LandingFileError(f"{path}: missing declared column(s) {missing}")
    declared = {c.name for c in spec.columns}
    arrays, fields = [], []
    for column in spec.columns:
        try:
            arrays.append(table[column.name].cast(column.arrow_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise LandingFileError(
                f"{path}: column {column.name!r} is not {column.data_type}: {exc}"
            ) from exc
        fields.append(pa.field(column.name, column.arrow_type))
    for name in table.column_names:
        if name not in declared:
            arrays.append(table[name])
            fields.append(table.schema.field(name))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def read_landing_file(path: Path, spec: SourceSpec) -> pa.Table:
    if not path.is_file():
        raise LandingFileError(f"{path}: landing file for source {spec.name!r} does not exist")
    try:
        table = READERS[spec.format](path, spec)
    except (pa.ArrowInvalid, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise LandingFileError(f"{path}: cannot read as {spec.format}: {exc}") from exc
    return conform_to_contract(table, spec, path)
