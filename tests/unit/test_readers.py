import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ettl_assets.sources.readers import LandingFileError, read_landing_file
from ettl_assets.sources.registry import ColumnSpec, SourceSpec


def spec_for(fmt: str) -> SourceSpec:
    return SourceSpec(
        name="things",
        description="",
        format=fmt,
        landing="things/{date}." + fmt,
        cadence="daily",
        owners=(),
        columns=(ColumnSpec("id", "bigint"), ColumnSpec("label", "string")),
        declared_in=None,
    )


def test_csv_gets_contract_types_missing_values_as_null_and_keeps_extra_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("label,id,extra\nx,1,a\n,2,b\n")
    table = read_landing_file(path, spec_for("csv"))
    assert table.schema.names == ["id", "label", "extra"]  # declared first, extras kept
    assert table.schema.field("id").type == pa.int64()
    assert table.column("label").to_pylist() == ["x", None]


def test_jsonl_and_an_empty_delivery(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1, "label": "x"}\n{"id": 2}\n')
    assert read_landing_file(path, spec_for("jsonl")).to_pylist() == [
        {"id": 1, "label": "x"},
        {"id": 2, "label": None},
    ]
    path.write_text("\n")
    empty = read_landing_file(path, spec_for("jsonl"))
    assert empty.num_rows == 0 and empty.schema.names == ["id", "label"]


def test_json_array_and_parquet(tmp_path):
    rows = [{"id": 1, "label": "x"}, {"id": 2, "label": "y"}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    assert read_landing_file(tmp_path / "t.json", spec_for("json")).to_pylist() == rows
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    assert read_landing_file(tmp_path / "t.parquet", spec_for("parquet")).to_pylist() == rows


def test_missing_declared_column_names_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id\n1\n")
    with pytest.raises(LandingFileError, match=r"t\.csv: missing declared column\(s\) \['label'\]"):
        read_landing_file(path, spec_for("csv"))


def test_missing_file_names_the_expected_path(tmp_path):
    with pytest.raises(LandingFileError, match="nope.csv: landing file for source 'things'"):
        read_landing_file(tmp_path / "nope.csv", spec_for("csv"))


def test_unparseable_value_names_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,label\nabc,x\n")
    with pytest.raises(LandingFileError, match=r"t\.csv: cannot read as csv"):
        read_landing_file(path, spec_for("csv"))
