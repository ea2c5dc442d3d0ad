"""The session settings of every Spark ETTL starts on this machine, written once.

They are used by the Thrift server (`ettl spark-server`), the class-data archive's dump workload
and the bench's hand-written PySpark baseline, and restated by the `local` target of
dbt_project/profiles.yml, which dbt reads without Python: tests/unit/test_spark_settings.py
keeps that copy equal to this one.
"""

from pathlib import Path

# Small data on a small machine, on loopback only: a few shuffle partitions, no UI. The console
# progress bar would corrupt dbt's JSON event stream that dagster-dbt parses
# (docs/design-decisions.md#d12). Timestamps are UTC whatever the machine's zone.
ENGINE: dict[str, str] = {
    "spark.driver.memory": "4g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def derby_metastore_url(data_dir: Path) -> str:
    """The data dir's own Hive metastore (Derby), which the `local` target uses too."""
    return f"jdbc:derby:;databaseName={data_dir / 'metastore_db'};create=true"


def catalog(
    warehouse_dir: Path, metastore_url: str, data_dir: Path, java_options: str = ""
) -> dict:
    """Where tables live and are catalogued; derby.log goes next to the metastore instead of
    the working directory."""
    return {
        "spark.sql.warehouse.dir": str(warehouse_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore_url,
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={data_dir} {java_options}".strip(),
    }
