import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ettl_assets.bronze.readers import LandingFileError, read_landing_file
from ettl_assets.bronze.registry import ColumnSpec, SourceSpec

COLUMNS = (ColumnSpec("id", "bigint"), ColumnSpec("label", "string"), ColumnSpec("day", "date"))


def spec_for(fmt: str, **evolution) -> SourceSpec:
    return SourceSpec(
        name="things",
        description="",
        format=fmt,
        landing="things/{date}." + fmt,
        cadence="daily",
        owners=(),
        system="test",
        columns=COLUMNS,
        declared_in=None,
        **evolution,
    )


def test_csv_gets_contract_types_missing_values_as_null_and_keeps_extra_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("label,id,day,extra\nx,1,2013-01-01,a\n,2,2013-01-02,b\n")
    delivery = read_landing_file(path, spec_for("csv"))
    assert delivery.table.schema.names == ["label", "id", "day", "extra"]  # as delivered
    assert delivery.table.schema.field("id").type == pa.int64()
    assert delivery.table.schema.field("day").type == pa.date32()
    assert delivery.table.column("label").to_pylist() == ["x", None]
    assert delivery.rejected == []
    assert delivery.delivered_schema == [
        ("label", "string"), ("id", "bigint"), ("day", "date"), ("extra", "string"),
    ]  # fmt: skip


def test_jsonl_a_missing_key_is_null_and_json_dates_are_seen_as_dates(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1, "label": "x", "day": "2013-01-01"}\n{"id": 2}\n')
    delivery = read_landing_file(path, spec_for("jsonl"))
    assert delivery.table.select(["id", "label"]).to_pylist() == [
        {"id": 1, "label": "x"},
        {"id": 2, "label": None},
    ]
    assert dict(delivery.delivered_schema)["day"] == "date"


def test_json_array_and_parquet(tmp_path):
    rows = [{"id": 1, "label": "x"}, {"id": 2, "label": "y"}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    assert read_landing_file(tmp_path / "t.json", spec_for("json")).table.to_pylist() == rows
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    parquet = read_landing_file(tmp_path / "t.parquet", spec_for("parquet"))
    assert parquet.table.to_pylist() == rows
    assert parquet.delivered_schema == [("id", "bigint"), ("label", "string")]


def test_an_alias_column_keeps_its_delivered_name_in_the_contract_type(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ident,label\n7,x\n")
    delivery = read_landing_file(path, spec_for("csv", aliases=(("ident", "id"),)))
    assert delivery.table.schema.field("ident").type == pa.int64()
    assert delivery.table.column("ident").to_pylist() == [7]


def test_a_column_whose_values_are_mostly_text_is_reported_as_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,label\nA1,x\nB2,y\n3,z\n")
    delivery = read_landing_file(path, spec_for("csv"))
    assert dict(delivery.delivered_schema)["id"] == "string"  # a type change, not bad rows
    assert len(delivery.rejected) == 2  # and the rows that do not fit are quarantined


def test_missing_file_names_the_expected_path(tmp_path):
    with pytest.raises(LandingFileError, match="nope.csv: landing file for source 'things'"):
        read_landing_file(tmp_path / "nope.csv", spec_for("csv"))
