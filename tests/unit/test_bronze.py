import pyarrow.parquet as pq
import pytest

from ettl_assets.bronze.assets import bronze_file, ingest
from ettl_assets.bronze.registry import load_registry
from ettl_assets.bronze.table_columns import PARTITION_COLUMN

FLIGHTS = {spec.name: spec for spec in load_registry()}["flights"]
DAY = "2013-01-02"


@pytest.fixture
def landing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    path = FLIGHTS.landing_path(tmp_path / "landing", DAY)
    path.parent.mkdir(parents=True)
    header = ",".join(c.name for c in FLIGHTS.columns if c.name not in FLIGHTS.optional)
    row = "2013,1,2,542,540,2,923,850,33,AA,1141,N619AA,JFK,MIA,160,1089,5,40,2013-01-02T10:00:00Z"
    path.write_text(f"{header}\n{row}\n")
    return path


def test_partition_file_has_the_rows_and_audit_columns(landing_file):
    result = ingest(FLIGHTS, DAY, run_id="run-1")
    assert result.rewritten and result.rows == 1
    target = bronze_file(FLIGHTS, DAY)
    assert target.parent.name == f"{PARTITION_COLUMN}={DAY}"
    table = pq.read_table(target)
    assert table.schema.names[-3:] == ["_ingested_at", "_source_file", "_run_id"]
    row = table.to_pylist()[0]
    assert (row["carrier"], row["flight"], row["_run_id"]) == ("AA", "1141", "run-1")
    assert row["_source_file"] == str(landing_file)
    assert not [p for p in target.parent.iterdir() if p.name != target.name]  # no temp left


def test_same_delivery_again_changes_nothing(landing_file):
    ingest(FLIGHTS, DAY, run_id="run-1")
    before = bronze_file(FLIGHTS, DAY).read_bytes()
    again = ingest(FLIGHTS, DAY, run_id="run-2")
    assert not again.rewritten and again.rows == 1
    assert bronze_file(FLIGHTS, DAY).read_bytes() == before


def test_corrected_delivery_replaces_only_its_partition(landing_file):
    ingest(FLIGHTS, DAY, run_id="run-1")
    landing_file.write_text(landing_file.read_text().replace(",33,AA,", ",35,AA,"))
    corrected = ingest(FLIGHTS, DAY, run_id="run-2")
    assert corrected.rewritten
    row = pq.read_table(bronze_file(FLIGHTS, DAY)).to_pylist()[0]
    assert (row["arr_delay"], row["_run_id"]) == (35, "run-2")


def test_an_empty_delivery_lands_zero_rows_with_the_full_schema(landing_file):
    header = landing_file.read_text().splitlines()[0]
    landing_file.write_text(header + "\n")
    assert ingest(FLIGHTS, DAY, run_id="run-1").rows == 0
    schema = pq.read_schema(bronze_file(FLIGHTS, DAY))
    assert schema.names[-3:] == ["_ingested_at", "_source_file", "_run_id"]
    assert str(schema.field("_source_file").type) == "string"
