"""Bad input, case by case, each with a real file: nothing is silently lost.

Each case uses a project source's contract and goes through the real bronze asset
(dg.materialize in process: its materialization, checks and metadata) or, for cases only about
the files, its `ingest` step; the bronze partition and the quarantine table are read back.
"""

import gzip
from dataclasses import replace

import dagster as dg
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ettl_assets.bronze.assets import bronze_asset_for, bronze_file, ingest, quarantine_dir
from ettl_assets.bronze.delivery_report import NOT_EMPTY_CHECK, QUARANTINE_CHECK, SCHEMA_CHECK
from ettl_assets.bronze.registry import ColumnSpec
from tests.unit.deliveries import (
    DAY,
    FLIGHTS,
    GOOD,
    HEADER,
    ROW,
    SOURCES,
    WEATHER,
    csv_file,
    deliver,
    materialize,
    warehouse_resources,
)


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def quarantined(spec, day: str = DAY) -> list[dict]:
    return ds.dataset(quarantine_dir(spec, day), format="parquet").to_table().to_pylist()


def test_bad_rows_are_quarantined_with_reason_file_and_line_and_good_rows_land(data_dir):
    path = deliver(FLIGHTS, csv_file(
        GOOD[0],
        "2013,1,2,542,540",                       # wrong number of fields
        GOOD[1],
        ROW.format(dep="five-forty"),             # unparseable number
        GOOD[2],
    ))  # fmt: skip
    result = materialize(FLIGHTS)

    facts = metadata(result)
    assert (facts["rows_in"], facts["rows_written"], facts["rows_quarantined"]) == (5, 3, 2)
    assert facts["rows_in"] == facts["rows_written"] + facts["rows_quarantined"]
    rows = sorted(quarantined(FLIGHTS), key=lambda r: r["line_number"])
    assert [(r["line_number"], r["reason"]) for r in rows] == [
        (3, "expected 19 fields, found 5"),
        (5, "dep_time: 'five-forty' is not bigint"),
    ]
    assert rows[0]["raw_text"] == "2013,1,2,542,540"
    assert rows[1]["_source_file"] == str(path) and rows[1]["_run_id"] == result.run_id
    assert rows[1]["_ingested_at"] is not None
    assert not checks(result)[QUARANTINE_CHECK].passed
    assert checks(result)[QUARANTINE_CHECK].severity == dg.AssetCheckSeverity.WARN
    assert pq.read_metadata(bronze_file(FLIGHTS, DAY)).num_rows == 3


def test_an_unparseable_date_is_quarantined(data_dir):
    # The sample contracts keep times as text; a contract with a real date column:
    dated = replace(FLIGHTS, columns=(*FLIGHTS.columns[:-2], ColumnSpec("time_hour", "date")))
    deliver(dated, csv_file(GOOD[0].replace("2013-01-02T10:00:00Z", "2013-01-02"),
                            GOOD[1].replace("2013-01-02T10:00:00Z", "2013-02-30")))  # fmt: skip
    result = ingest(dated, DAY, run_id="r1")
    assert (result.rows, result.rows_quarantined) == (1, 1)
    (row,) = quarantined(dated)
    assert row["reason"] == "time_hour: '2013-02-30' is not date" and row["line_number"] == 3


def test_invalid_utf8_bytes_quarantine_the_row_with_the_byte_offset(data_dir):
    good = csv_file(GOOD[0])
    bad_line = ROW.format(dep=600).replace("N619AA", "N6\xff9AA").encode("latin-1")
    deliver(FLIGHTS, good + bad_line + b"\n" + GOOD[2].encode() + b"\n")
    result = ingest(FLIGHTS, DAY, run_id="r1")
    assert (result.rows, result.rows_quarantined) == (2, 1)
    (row,) = quarantined(FLIGHTS)
    offset = len(good) + bad_line.index(b"\xff")
    assert row["reason"] == f"invalid UTF-8 at byte offset {offset} of the file"
    assert row["line_number"] == 3 and "N6" in row["raw_text"]


@pytest.mark.parametrize("content", [b"", csv_file()], ids=["empty file", "header only"])
def test_an_empty_or_header_only_file_lands_zero_rows_with_a_warn_check(data_dir, content):
    deliver(FLIGHTS, content)
    result = materialize(FLIGHTS)
    assert result.success and metadata(result)["rows_written"] == 0
    empty = checks(result)[NOT_EMPTY_CHECK]
    assert not empty.passed and empty.severity == dg.AssetCheckSeverity.WARN
    assert checks(result)[SCHEMA_CHECK].passed  # no columns is not drift
    assert pq.read_metadata(bronze_file(FLIGHTS, DAY)).num_rows == 0


@pytest.mark.parametrize(
    ("spec", "name", "content", "message"),
    [
        (
            WEATHER,
            "cut JSON line",
            b'{"origin": "EWR", "year": 2013}\n{"origin": "JF',
            "line 2 is cut short",
        ),
        (FLIGHTS, "bad gzip", b"\x1f\x8b\x08\x00 definitely not gzip", "not a valid gzip file"),
        (SOURCES["planes"], "broken Parquet footer", b"PAR1" + b"\x00" * 64, "cannot read as"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_a_truncated_or_corrupt_file_fails_naming_it_and_leaves_no_partial_partition(
    data_dir, spec, name, content, message
):
    if name == "bad gzip":
        spec = replace(spec, landing=spec.landing + ".gz")
    day = DAY if spec.is_daily else None
    path = deliver(spec, content, day)
    result = materialize(spec, day, raise_on_error=False) if day else None
    if result is not None:
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert str(path) in failure.message and message in failure.message
    else:
        with pytest.raises(Exception, match=message) as error:
            ingest(spec, None, run_id="r1")
        assert str(path) in str(error.value)
    target = bronze_file(spec, day)
    assert not target.exists()  # nothing half-written is visible
    assert not target.parent.exists() or not list(target.parent.iterdir())


def test_a_gzip_delivery_is_read(data_dir):
    spec = replace(FLIGHTS, landing=FLIGHTS.landing + ".gz")
    deliver(spec, gzip.compress(csv_file(*GOOD)))
    assert ingest(spec, DAY, run_id="r1").rows == 3


def test_the_same_file_delivered_twice_adds_no_row_and_no_quarantine_row(data_dir):
    deliver(FLIGHTS, csv_file(GOOD[0], "2013,1,2"))
    first = ingest(FLIGHTS, DAY, run_id="r1")
    second = ingest(FLIGHTS, DAY, run_id="r2")
    assert not second.rewritten and (second.rows, second.rows_quarantined) == (1, 1)
    assert first.rows_in == second.rows_in == 2
    assert pq.read_metadata(bronze_file(FLIGHTS, DAY)).num_rows == 1
    assert len(quarantined(FLIGHTS)) == 1


def test_a_day_without_a_delivery_is_reported_and_lands_nothing(data_dir):
    result = materialize(FLIGHTS)
    assert result.success  # the other sources and days go on (a missing snapshot still fails)
    facts = metadata(result)
    assert facts["days_without_delivery"] == [DAY]
    assert (facts["rows_in"], facts["rows_written"], facts["files_read"]) == (0, 0, [])
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["delivered"].value is False
    not_empty = checks(result)[NOT_EMPTY_CHECK]
    assert not not_empty.passed and not_empty.severity == dg.AssetCheckSeverity.WARN
    assert not bronze_file(FLIGHTS, DAY).exists()  # no partition pretends data arrived


def test_a_missing_snapshot_fails_naming_the_expected_path(data_dir):
    airports = SOURCES["airports"]
    with dg.instance_for_test() as instance:
        result = dg.materialize([bronze_asset_for(airports)], instance=instance,
                                raise_on_error=False, resources=warehouse_resources())  # fmt: skip
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    expected = airports.landing_path(data_dir / "landing")
    assert f"{expected}: landing file for source 'airports' does not exist" in message


def test_in_a_range_the_good_days_land_the_bad_day_is_named_the_missing_day_reported(data_dir):
    deliver(FLIGHTS, csv_file(GOOD[0]), "2013-01-01")
    deliver(FLIGHTS, b"\xff\xfe" + csv_file(GOOD[1]), "2013-01-02")  # unreadable header
    deliver(FLIGHTS, csv_file(GOOD[2]), "2013-01-04")  # 2013-01-03 never arrives
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [bronze_asset_for(FLIGHTS)], instance=instance, raise_on_error=False,
            resources=warehouse_resources(),
            tags={"dagster/asset_partition_range_start": "2013-01-01",
                  "dagster/asset_partition_range_end": "2013-01-04"},
        )  # fmt: skip
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "2013-01-02.csv" in message
    assert "2013-01-01.csv" not in message and "2013-01-03.csv" not in message
    landed = [bronze_file(FLIGHTS, f"2013-01-0{d}").exists() for d in (1, 2, 3, 4)]
    assert landed == [True, False, False, True]


def test_schema_drift_is_a_warn_check_naming_each_change(data_dir):
    header = HEADER.replace("dep_delay", "departure_delay") + ",cancelled,gate"
    deliver(FLIGHTS, f"{header}\n{ROW.format(dep=542)},false,B12\n".encode())
    result = materialize(FLIGHTS)
    drift = checks(result)[SCHEMA_CHECK]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    assert drift.metadata["drift_by_partition"].value == {
        DAY: [
            "renamed dep_delay: delivered as departure_delay (known alias)",
            "added gate: not in the contract, delivered string",
        ]
    }
    schema = metadata(result)["dagster/column_schema"]
    assert [c.name for c in schema.columns][-3:] == ["time_hour", "cancelled", "gate"]
