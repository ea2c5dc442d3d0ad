"""The hand-written PySpark baseline (bench/pyspark_pipeline.py), without starting Spark: its
command line, and that it still mirrors the platform (bronze layout and columns, the dbt models
and how they are partitioned). Its results are compared to the platform's by hand (it is a
benchmark, not part of the pipeline)."""

import importlib.util
import json
import sys
import warnings
from datetime import date
from pathlib import Path

import pytest

from ettl_assets.bronze.assets import bronze_file
from ettl_assets.bronze.registry import load_registry
from ettl_assets.bronze.table_columns import PARTITION_COLUMN, bronze_columns
from ettl_assets.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def _load_bench_module(name: str):
    path = PROJECT_ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # baseline_coverage imports pyspark_pipeline by name
    spec.loader.exec_module(module)
    return module


baseline = _load_bench_module("pyspark_pipeline")
coverage = _load_bench_module("baseline_coverage")


def test_command_line_gives_an_inclusive_window():
    args = baseline.parse_args(
        ["--data-dir", "d", "--out", "o", "--start", "2013-06-30", "--end", "2013-07-01"]
    )
    assert (args.data_dir, args.out) == (Path("d"), Path("o"))
    assert baseline.window_days(args.start, args.end) == [date(2013, 6, 30), date(2013, 7, 1)]
    # SQL windows are half-open, like dbt_project/macros/partition_window.sql.
    assert baseline.in_window("flight_date", args.start, args.end) == (
        "flight_date >= date'2013-06-30' and flight_date < date'2013-07-02'"
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2013-01-04", "2013-01-02", "is after --end"),
        ("2013-1-32", "2013-01-02", "invalid fromisoformat value"),
    ],
)
def test_command_line_rejects_a_bad_window(capsys, start, end, message):
    with pytest.raises(SystemExit) as exit_info:
        baseline.parse_args(["--data-dir", "d", "--out", "o", "--start", start, "--end", end])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_requires_every_option(capsys):
    with pytest.raises(SystemExit):
        baseline.parse_args(["--data-dir", "d", "--start", "2013-01-01", "--end", "2013-01-01"])
    assert "--out" in capsys.readouterr().err


def test_reads_the_files_bronze_writes(data_dir):
    for spec in load_registry():
        days = [date(2013, 1, 2)] if spec.is_daily else None
        [path] = baseline.bronze_files(data_dir, spec.name, days)
        assert path == bronze_file(spec, "2013-01-02" if spec.is_daily else None)


def test_reads_bronze_with_the_columns_of_the_external_tables():
    """Same names, types and order as register_bronze_tables.sql declares them."""
    specs = {spec.name: spec for spec in load_registry()}
    assert set(baseline.BRONZE_SCHEMAS) == set(specs)
    for name, spec in specs.items():
        ddl = f"{baseline.BRONZE_SCHEMAS[name]}, {baseline.AUDIT_COLUMNS}"
        declared = dict(column.split() for column in ddl.split(", "))
        expected = bronze_columns(spec)
        expected.pop(PARTITION_COLUMN, None)  # the baseline adds it when reading a daily source
        assert list(declared.items()) == list(expected.items()), name


def test_mirrors_dbt_models_partitioned_like_dbt_and_lists_the_others():
    """Each model the baseline computes is a dbt model of the same tier and partition column. A
    dbt model it does not compute (one just added in YAML and SQL) is listed, as `make bench`
    lists it, not a failure: the bench compares what both compute."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    dbt_models = coverage.dbt_models(manifest)
    for name, (tier, partition_column) in coverage.baseline_models().items():
        assert dbt_models.get(name) == (tier, partition_column), name
    assert set(coverage.baseline_models()) <= set(dbt_models)
    if missing := coverage.not_covered(manifest):
        warnings.warn(coverage.coverage_line(manifest), stacklevel=1)
    assert set(missing) == set(dbt_models) - set(coverage.baseline_models())


def test_a_model_added_without_a_baseline_is_listed_not_failed():
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    node = {"resource_type": "model", "name": "stg_meters__readings",
            "config": {"schema": "silver", "partition_by": ["reading_date"]}}  # fmt: skip
    manifest["nodes"] = {**manifest["nodes"], "model.ettl.stg_meters__readings": node}
    assert "stg_meters__readings" in coverage.not_covered(manifest)
    assert "stg_meters__readings" in coverage.coverage_line(manifest)
