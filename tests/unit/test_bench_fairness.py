"""The pieces that make `make bench` fair (issue 20), without running a pipeline: the output
comparison of the two sides, the interleaving, P1's typed pyarrow baseline, the RSS sampling of
the bench's own process, and the JVM options both Spark sides read."""

import importlib.util
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ettl_assets import spark_class_archive
from ettl_assets.bronze.registry import load_registry
from ettl_assets.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"


def _load(name: str):
    sys.path.insert(0, str(BENCH_DIR))  # bench.py imports its siblings by name
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load("bench")
same_output = _load("same_output")
process_memory = _load("process_memory")
pyspark_pipeline = _load("pyspark_pipeline")

DAYS = ["2013-06-03", "2013-06-04"]


def _write_daily(root: Path, tier: str, name: str, rows_by_day: dict[str, dict]) -> None:
    for day, columns in rows_by_day.items():
        folder = root / tier / name / f"flight_date={day}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table(columns), folder / "part-00000.parquet")
        (folder.parent / "_SUCCESS").touch()  # as Spark writes it: not data


def _table(carrier: list[str], delay: list[float | None], count: list[int]) -> dict:
    return {
        "carrier_code": pa.array(carrier, pa.string()),
        "avg_dep_delay_minutes": pa.array(delay, pa.float64()),
        "flights_scheduled": pa.array(count, pa.int64()),
    }


@pytest.fixture
def two_sides(tmp_path):
    """The same gold table written by both sides, plus a day outside the window."""
    warehouse, out = tmp_path / "warehouse", tmp_path / "out"
    same = {
        "2013-06-03": _table(["AA", "UA"], [1.5, None], [3, 4]),
        "2013-06-04": _table(["B6"], [2.25], [7]),
    }
    _write_daily(warehouse, "gold.db", "fct_daily_carrier_performance", same)
    _write_daily(out, "gold", "fct_daily_carrier_performance", same)
    # Only the platform has older days: they are not part of the compared window.
    _write_daily(
        warehouse,
        "gold.db",
        "fct_daily_carrier_performance",
        {"2013-06-01": _table(["XX"], [9.0], [1])},
    )
    return warehouse, out


PARTITIONS = {"fct_daily_carrier_performance": "flight_date"}


def test_same_output_passes_and_counts_the_window_rows(two_sides):
    warehouse, out = two_sides
    rows = same_output.compare_outputs(warehouse, out, PARTITIONS, DAYS)
    assert rows == {"gold.fct_daily_carrier_performance": 3}


def _rewrite_baseline_day(out: Path, columns: dict) -> None:
    folder = out / "gold" / "fct_daily_carrier_performance" / "flight_date=2013-06-04"
    pq.write_table(pa.table(columns), folder / "part-00000.parquet")


@pytest.mark.parametrize(
    ("baseline_day", "expected"),
    [
        # one string value differs: its hash checksum
        (_table(["B7"], [2.25], [7]), "gold.fct_daily_carrier_performance.carrier_code checksum"),
        # an integer off by one
        (_table(["B6"], [2.25], [8]), "flights_scheduled checksum"),
        # a float beyond rounding
        (
            _table(["B6"], [2.26], [7]),
            "avg_dep_delay_minutes checksum: platform 3.75, baseline 3.76",
        ),
        # a value missing
        (_table(["B6"], [None], [7]), "avg_dep_delay_minutes nulls: platform 1, baseline 2"),
        # a column missing from one day's file: its values count as missing
        (
            {"carrier_code": pa.array(["B6"]), "flights_scheduled": pa.array([7])},
            "avg_dep_delay_minutes nulls: platform 1, baseline 2",
        ),
        # a row more
        (
            _table(["B6", "B6"], [2.25, 2.25], [7, 7]),
            "rows (2013-06-04): platform 1, baseline 2",
        ),
    ],
)
def test_same_output_fails_naming_the_table_and_both_values(two_sides, baseline_day, expected):
    warehouse, out = two_sides
    _rewrite_baseline_day(out, baseline_day)
    with pytest.raises(same_output.DifferentOutput, match="fct_daily_carrier_performance") as info:
        same_output.compare_outputs(warehouse, out, PARTITIONS, DAYS)
    assert expected in str(info.value)


def test_same_output_fails_on_a_column_only_one_side_wrote(two_sides):
    warehouse, out = two_sides
    for day in DAYS:
        folder = out / "gold" / "fct_daily_carrier_performance" / f"flight_date={day}"
        table = pq.read_table(folder / "part-00000.parquet")
        pq.write_table(table.drop_columns(["avg_dep_delay_minutes"]), folder / "part-00000.parquet")
    with pytest.raises(same_output.DifferentOutput) as info:
        same_output.compare_outputs(warehouse, out, PARTITIONS, DAYS)
    assert (
        "gold.fct_daily_carrier_performance columns: platform ['avg_dep_delay_minutes', "
        "'carrier_code', 'flights_scheduled'], baseline ['carrier_code', 'flights_scheduled']"
    ) in str(info.value)


def test_same_output_tolerates_float_rounding_only(two_sides):
    warehouse, out = two_sides
    _rewrite_baseline_day(out, _table(["B6"], [2.25 + 1e-13], [7]))
    same_output.compare_outputs(warehouse, out, PARTITIONS, DAYS)


def test_same_output_fails_on_a_table_only_the_baseline_wrote(two_sides):
    warehouse, out = two_sides
    _write_daily(out, "silver", "stg_flights__flights", {"2013-06-03": _table(["AA"], [1.0], [1])})
    with pytest.raises(same_output.DifferentOutput, match="silver.stg_flights__flights: written"):
        same_output.compare_outputs(warehouse, out, PARTITIONS, DAYS)


def test_checksum_ignores_row_order_and_timestamp_encoding():
    instants = pa.array([1_370_000_000_000_000, 1_370_000_360_000_000], pa.timestamp("us"))
    as_nanos = pa.chunked_array([instants.cast(pa.timestamp("ns"))[::-1]])
    assert same_output.column_checksum(pa.chunked_array([instants])) == (
        same_output.column_checksum(as_nanos)
    )


def test_interleaved_alternates_the_sides_and_reverses_every_other_repetition():
    calls, ends = [], []
    seconds = {"platform": iter([5.0, 7.0, 6.0]), "baseline": iter([1.0, 3.0, 2.0])}

    def side(name):
        return lambda rep: calls.append((rep, name)) or next(seconds[name])

    medians = bench.interleaved(
        3, {"platform": side("platform"), "baseline": side("baseline")}, ends.append
    )
    assert calls == [
        (0, "platform"), (0, "baseline"),
        (1, "baseline"), (1, "platform"),
        (2, "platform"), (2, "baseline"),
    ]  # fmt: skip
    assert ends == [0, 1, 2]
    assert medians == {"platform": 6.0, "baseline": 2.0}


def test_p1_baseline_reads_with_the_contract_types_and_adds_the_audit_columns(tmp_path):
    (flights,) = [spec for spec in load_registry() if spec.name == "flights"]
    landing = tmp_path / "2013-07-01.csv"
    # Since 2013-07-01 the delay arrives as departure_delay (an alias) with `cancelled`; a
    # flight number that looks numeric stays text, as the contract says.
    landing.write_text(
        "year,month,day,flight,carrier,departure_delay,cancelled,time_hour\n"
        "2013,7,1,1545,UA,,false,2013-07-01T09:00:00Z\n"
        "2013,7,1,UA17,UA,12,true,2013-07-01T10:00:00Z\n"
    )
    target = tmp_path / "out" / "partition_date=2013-07-01" / "part-0.parquet"
    rows = bench.typed_pyarrow_ingest(flights, landing, target, "run-1")
    written = pq.read_table(target)
    assert rows == 2 == written.num_rows
    assert {name: str(written.schema.field(name).type) for name in written.column_names} == {
        "year": "int64", "month": "int64", "day": "int64", "flight": "string",
        "carrier": "string", "departure_delay": "int64", "cancelled": "bool",
        "time_hour": "string",
        "_ingested_at": "timestamp[us, tz=UTC]", "_source_file": "string", "_run_id": "string",
    }  # fmt: skip
    assert written["departure_delay"].to_pylist() == [None, 12]
    assert written["flight"].to_pylist() == ["1545", "UA17"]
    assert set(written["_run_id"].to_pylist()) == {"run-1"}
    assert set(written["_source_file"].to_pylist()) == {str(landing)}
    assert [p.name for p in target.parent.iterdir()] == ["part-0.parquet"]  # no temp file left


def _own_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_sampling_measures_the_bench_process_itself():
    before = _own_rss()
    with process_memory.sampling(os.getpid()) as memory:
        ballast = bytearray(200 * 1024 * 1024)  # touched: resident
        ballast[::4096] = b"x" * len(ballast[::4096])
    assert memory.peak["python"] >= before + 150 * 1024 * 1024
    del ballast


def test_both_spark_sides_read_the_same_jvm_options_variable():
    assert pyspark_pipeline.JAVA_OPTIONS_ENV == spark_class_archive.JAVA_OPTIONS_ENV
    profiles = (PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text()
    assert f"env_var('{spark_class_archive.JAVA_OPTIONS_ENV}'" in profiles


def _checks_run_by(job) -> set:
    return {spec.key for data in job.asset_layer.data for spec in data.assets_def.check_specs}


def test_without_checks_job_selects_silver_and_gold_without_a_check():
    module = _load("without_checks")
    job = module.defs.resolve_job_def(bench.WITHOUT_CHECKS_JOB)
    keys = job.asset_layer.selected_asset_keys
    assert sorted(key.to_user_string() for key in keys) == bench.silver_and_gold_keys()
    assert _checks_run_by(job) == set()
    # while a job of the same assets with their checks runs the dbt data tests
    with_checks = module.defs.resolve_implicit_job_def_def_for_assets(list(keys))
    assert any(check.asset_key in keys for check in _checks_run_by(with_checks))
