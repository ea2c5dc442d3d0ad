"""Which silver and gold models the hand-written PySpark baseline (pyspark_pipeline.py)
computes, and which it does not. A model added in YAML and SQL alone is in the platform at once
but in the baseline only once someone writes it there: the bench lists it, and compares the
rest, rather than failing (docs/performance.md)."""

import json
from datetime import date
from pathlib import Path

import pyspark_pipeline as baseline

MANIFEST = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"
TIERS = ("silver", "gold")


def dbt_models(manifest: dict) -> dict[str, tuple[str, str | None]]:
    """{model: (tier, partition column or None)} of every silver and gold model of the project
    (its schema is its tier: dbt_project.yml)."""
    found = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] == "model" and config.get("schema") in TIERS:
            partition_by = config.get("partition_by") or [None]
            if isinstance(partition_by, str):
                partition_by = [partition_by]
            found[node["name"]] = (config["schema"], partition_by[0])
    return found


def baseline_models() -> dict[str, tuple[str, str | None]]:
    """The same for what the baseline computes (the window does not change which)."""
    today = date.today()
    found = {name: ("silver", None) for name in baseline.silver_sql(today, today)}
    found |= {name: ("gold", None) for name in baseline.GOLD_SQL}
    partitioned = baseline.PARTITION_COLUMN.items()
    return found | {name: (found[name][0], column) for name, column in partitioned}


def not_covered(manifest: dict | None = None) -> list[str]:
    """dbt's silver and gold models the baseline does not compute, by name."""
    manifest = manifest or json.loads(MANIFEST.read_text())
    return sorted(set(dbt_models(manifest)) - set(baseline_models()))


def coverage_line(manifest: dict | None = None) -> str:
    missing = not_covered(manifest)
    if not missing:
        return "baseline: computes every silver and gold model"
    return (
        f"baseline: not covered by bench/pyspark_pipeline.py (the platform builds them, the "
        f"bench does not compare them): {', '.join(missing)}"
    )


if __name__ == "__main__":
    print(coverage_line())
