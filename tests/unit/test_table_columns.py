"""The bronze layout (dbt_project.yml's bronze_layout var) as the Python side reads it: the same
columns, in the same order and types, that bronze wrote before the layout moved to that file."""

from datetime import UTC, datetime

import pyarrow as pa

from ettl_assets.bronze.assets import quarantine_table
from ettl_assets.bronze.readers import RejectedRow
from ettl_assets.bronze.registry import ColumnSpec, SourceSpec
from ettl_assets.bronze.table_columns import (
    AUDIT_FIELDS,
    PARTITION_COLUMN,
    QUARANTINE_FIELDS,
    quarantine_columns,
)

AUDIT = [
    ("_ingested_at", pa.timestamp("us", tz="UTC")),
    ("_source_file", pa.string()),
    ("_run_id", pa.string()),
]


def test_layout_reads_the_audit_quarantine_and_partition_columns():
    assert PARTITION_COLUMN == "partition_date"
    assert [(f.name, f.type) for f in AUDIT_FIELDS] == AUDIT
    assert [(f.name, f.type) for f in QUARANTINE_FIELDS] == [
        ("raw_text", pa.string()),
        ("reason", pa.string()),
        ("line_number", pa.int64()),
    ]


def test_quarantine_table_holds_the_rejected_rows_then_the_audit_columns():
    at = datetime(2013, 1, 2, 3, 4, 5, tzinfo=UTC)
    rejected = [RejectedRow(7, "2013,1,x", "dep_time: not a number")]
    table = quarantine_table(rejected, "landing/flights.csv", "run-9", at)
    assert [(f.name, f.type) for f in table.schema] == [
        ("raw_text", pa.string()),
        ("reason", pa.string()),
        ("line_number", pa.int64()),
        *AUDIT,
    ]
    assert table.to_pylist() == [
        {
            "raw_text": "2013,1,x",
            "reason": "dep_time: not a number",
            "line_number": 7,
            "_ingested_at": at,
            "_source_file": "landing/flights.csv",
            "_run_id": "run-9",
        }
    ]


def test_a_daily_quarantine_table_ends_with_its_partition_column():
    spec = SourceSpec(
        name="flights", description="", format="csv", landing="f_{date}.csv", cadence="daily",
        owners=(), system="s", columns=(ColumnSpec("carrier", "string"),), declared_in=None,
    )  # fmt: skip
    assert list(quarantine_columns(spec).items()) == [
        ("raw_text", "string"),
        ("reason", "string"),
        ("line_number", "bigint"),
        ("_ingested_at", "timestamp"),
        ("_source_file", "string"),
        ("_run_id", "string"),
        ("partition_date", "date"),
    ]
