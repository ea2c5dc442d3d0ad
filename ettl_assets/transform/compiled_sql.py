"""The SQL a dbt model ran: dbt writes each model's compiled SQL (its Jinja and window vars
resolved) under the invocation's target/compiled/, where dagster-dbt's column lineage reads it
too."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def compiled_sql(node: Mapping[str, Any], target_path: Path) -> str | None:
    """The compiled SQL of a model dbt built in this invocation (None: dbt wrote none)."""
    path = target_path / "compiled" / node["package_name"] / node["original_file_path"]
    return path.read_text() if path.is_file() else None
