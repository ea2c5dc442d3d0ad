"""Declaring restored tables to Spark with `dbt run-operation` through the project's profile: the
embedded Spark (target `local`) or a Thrift server (`thrift`), whatever catalog that one has.
The macros are in dbt_project/macros/restore_tables.sql.

Both operations of a restore run in this process through dbt's Python API (dbtRunner): on the
embedded Spark the second reuses the first one's Spark session, so a restore starts one JVM
(~15-20 s), not two. dbt's and Spark's output go to the restore's log; a failure is one line.
"""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner

from ettl.backup.manifest import TableDefinition
from ettl_assets import settings


class CatalogError(Exception):
    """dbt could not declare the tables; the message is dbt's error, in one line."""


def create_tables(tables: list[TableDefinition], log: Path) -> None:
    """Create the tables, empty, refusing any that already exists."""
    _run_operation("create_restored_tables", {"tables": [_table(t) for t in tables]}, log)


def recover_tables(tables: list[TableDefinition], log: Path) -> None:
    """Register bronze, and pick up the files and partitions of the tables created before."""
    _run_operation("recover_restored_tables", {"tables": [_table(t) for t in tables]}, log)


def stop_embedded_spark() -> None:
    """End the JVM the operations started in this process. It keeps the Derby metastore open
    until it exits, so it must be gone before the metastore lock is released (a dbt CLI step's
    JVM ends with the dbt process instead)."""
    if "pyspark" not in sys.modules:  # thrift target, or no operation ran
        return
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None)  # set by pyspark's java_gateway.launch_gateway
    if gateway is None or process is None:
        return
    gateway.shutdown()
    process.stdin.close()  # the JVM exits when its stdin closes (pyspark's java_gateway.py)
    process.wait(timeout=120)
    SparkContext._gateway = SparkContext._jvm = None


def _table(table: TableDefinition) -> dict[str, Any]:
    return {
        "schema": table.schema,
        "name": table.name,
        "columns": [[column.name, column.type] for column in table.columns],
        "partition_columns": list(table.partition_columns),
    }


def _run_operation(macro: str, args: dict[str, Any], log: Path) -> None:
    project = str(settings.DBT_PROJECT_DIR)
    argv = [
        "--no-use-colors", "run-operation", macro, "--args", json.dumps(args),
        "--project-dir", project, "--profiles-dir", project, "--target", settings.dbt_target(),
    ]  # fmt: skip
    errors: list[str] = []

    def keep_errors(event: Any) -> None:
        if event.info.level == "error":
            errors.append(event.info.msg)

    with _output_to(log):
        result = dbtRunner(callbacks=[keep_errors]).invoke(argv)
    if not result.success:
        detail = errors[-1] if errors else str(result.exception)
        raise CatalogError(f"dbt run-operation {macro} failed: {_essence(detail)}")


# dbt wraps a macro's error in lines naming the operation, the error kind and the call stack.
DBT_WRAPPING = ("Encountered an error while running operation", "Runtime Error",
                "Compilation Error in macro", "> in macro", "> called by")  # fmt: skip


def _essence(message: str) -> str:
    """dbt's error message without dbt's wrapping, in one line."""
    lines = [line.strip() for line in message.splitlines()]
    kept = [line for line in lines if line and not line.startswith(DBT_WRAPPING)]
    return " ".join(" ".join(kept or lines).split())


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr to the log, at the descriptor level: the Spark JVM
    that dbt starts inherits them, and its start-up chatter belongs in the log, not the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
