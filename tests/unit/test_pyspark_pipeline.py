"""The hand-written PySpark baseline (bench/pyspark_pipeline.py), without starting Spark: its
command line, and that it still mirrors the platform (bronze layout and columns, the dbt models
and how they are partitioned). Its results are compared to the platform's by hand (it is a
benchmark, not part of the pipeline)."""

import importlib.util
from datetime import date
from pathlib import Path

import pytest
import yaml

from ettl_assets.bronze.assets import bronze_file
from ettl_assets.bronze.registry import load_registry
from ettl_assets.bronze.table_columns import PARTITION_COLUMN, bronze_columns
from ettl_assets.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def _load_baseline():
    path = PROJECT_ROOT / "bench" / "pyspark_pipeline.py"
    spec = importlib.util.spec_from_file_location("pyspark_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


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


def test_computes_every_dbt_model_partitioned_like_dbt():
    config = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["models"]["ettl"]
    expected = {}
    for tier in ("silver", "gold"):
        for model in sorted((DBT_PROJECT_DIR / "models" / tier).glob("*/*.sql")):
            folder = config[tier].get(model.parent.name, {})
            expected[model.stem] = (tier, (folder.get("+partition_by") or [None])[0])
    computed = {name: ("silver", None) for name in baseline.silver_sql(date.today(), date.today())}
    computed |= {name: ("gold", None) for name in baseline.GOLD_SQL}
    computed |= {
        name: (computed[name][0], column) for name, column in baseline.PARTITION_COLUMN.items()
    }
    assert computed == expected
