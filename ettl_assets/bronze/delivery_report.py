"""What a bronze materialization reports: row accounting, delivered schema and WARN checks.

Rows in = rows landed + rows quarantined, for every run. The checks never fail a run (bronze
keeps whatever arrived); they make a drifted, empty or partly bad delivery visible in the UI.
"""

from typing import TYPE_CHECKING

import dagster as dg

from ettl_assets.bronze.drift import contract_drift
from ettl_assets.bronze.registry import QUARANTINE_SUFFIX, SourceSpec
from ettl_assets.metadata import COLUMN_SCHEMA, DURATION, FILES_READ, PATH, rows_metadata

if TYPE_CHECKING:  # bronze.py builds the report, so it cannot be imported at run time here
    from ettl_assets.bronze.assets import Ingested

SCHEMA_CHECK = "schema_matches_contract"
NOT_EMPTY_CHECK = "delivery_not_empty"
QUARANTINE_CHECK = "no_rows_quarantined"
DAYS_WITHOUT_DELIVERY = "days_without_delivery"

CHECK_DESCRIPTIONS = {
    SCHEMA_CHECK: "Delivered columns match the contract: none added, missing, renamed (even "
    "through a known alias) or delivered in a type the contract type cannot hold.",
    NOT_EMPTY_CHECK: "Every day of the run was delivered, and every delivery held a row.",
    QUARANTINE_CHECK: "No row of the run's deliveries was quarantined.",
}


def check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(name, asset=asset_key, description=description)
        for name, description in CHECK_DESCRIPTIONS.items()
    ]


def _warn(name: str, passed: bool, metadata: dict[str, object]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _label(item: "Ingested") -> str:
    return item.day or "snapshot"


def column_schema(delivered: list[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, type_) for name, type_ in delivered])


def delivery_report(
    spec: SourceSpec, ingested: list["Ingested"], seconds: float
) -> dg.MaterializeResult:
    """The materialization of one bronze run over `ingested` (one item per partition)."""
    missing = [_label(i) for i in ingested if not i.delivered]
    ingested = [i for i in ingested if i.delivered]
    rows = sum(item.rows for item in ingested)
    quarantined = {_label(i): i.rows_quarantined for i in ingested if i.rows_quarantined}
    empty = [_label(i) for i in ingested if i.rows_in == 0]
    drift = {
        _label(i): [str(d) for d in found]
        for i in ingested
        if (found := contract_drift(spec, i.delivered_schema))
    }
    latest_schema = next((i.delivered_schema for i in reversed(ingested) if i.delivered_schema), [])
    metadata: dict[str, object] = {
        **rows_metadata(rows, single_partition=len(ingested) == 1),
        "rows_in": dg.MetadataValue.int(sum(i.rows_in for i in ingested)),
        "rows_quarantined": dg.MetadataValue.int(sum(quarantined.values())),
        DURATION: dg.MetadataValue.float(round(seconds, 3)),
        FILES_READ: dg.MetadataValue.json([str(i.landing_file) for i in ingested]),
        "bytes_read": dg.MetadataValue.int(sum(i.bytes_read for i in ingested)),
        "files_rewritten": dg.MetadataValue.int(sum(i.rewritten for i in ingested)),
        "files_unchanged": dg.MetadataValue.int(sum(not i.rewritten for i in ingested)),
        # Days the source sent no file for: materialized with nothing read (bronze.py).
        DAYS_WITHOUT_DELIVERY: dg.MetadataValue.json(missing),
        # As the source sent it (the last non-empty delivery of the run); `ettl drift` has
        # every partition's.
        COLUMN_SCHEMA: column_schema(latest_schema),
    }
    if len(ingested) == 1:
        metadata[PATH] = dg.MetadataValue.path(str(ingested[0].bronze_file))
    checks = [
        _warn(SCHEMA_CHECK, not drift, {"drift_by_partition": dg.MetadataValue.json(drift)}),
        _warn(
            NOT_EMPTY_CHECK,
            not empty and not missing,
            {
                "empty_partitions": dg.MetadataValue.json(empty),
                DAYS_WITHOUT_DELIVERY: dg.MetadataValue.json(missing),
            },
        ),
        _warn(
            QUARANTINE_CHECK,
            not quarantined,
            {
                "rows_quarantined_by_partition": dg.MetadataValue.json(quarantined),
                "query": dg.MetadataValue.text(
                    f"select * from bronze.{spec.name}{QUARANTINE_SUFFIX} "
                    "order by _ingested_at desc"
                ),
            },
        ),
    ]
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
