"""`reports/gold_report`: the gold marts rendered into one static HTML report with plots.

It reads the marts' Parquet files (gold_tables.py) and never raw data, so the report shows
exactly what gold holds. It is downstream of the marts it reads: the asset graph shows it, and
Dagster marks it stale when they change. Unpartitioned: it always covers every day gold holds.
"""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ettl_assets import settings
from ettl_assets.catalog import SENSITIVITY_TAG, SOURCE_SYSTEMS, freshness_policy
from ettl_assets.execution import BRONZE_OP_TAGS
from ettl_assets.metadata import PATH
from ettl_assets.reports import plots
from ettl_assets.reports.gold_tables import read_gold
from ettl_assets.reports.html_page import Plot, render_page
from ettl_assets.transform.assets import daily_dbt_models

GROUP = "reports"
KEY = dg.AssetKey([GROUP, "gold_report"])
REPORT_FILE = "gold_report.html"
PERFORMANCE, ROUTES, WEATHER = (
    "fct_daily_carrier_performance",
    "fct_daily_route_delays",
    "fct_hourly_weather_delays",
)
READS = [dg.AssetKey(["gold", name]) for name in (PERFORMANCE, ROUTES, WEATHER)]
# Metadata keys of its materialization: where the file is, as a path (PATH) and as a link.
URL = "url"


def report_path() -> Path:
    return settings.reports_dir() / REPORT_FILE


def _source_systems() -> list[str]:
    """Every source system of the marts it reads (the translator records them per model)."""
    specs = {spec.key: spec for spec in daily_dbt_models.specs}
    missing = [key.to_user_string() for key in READS if key not in specs]
    if missing:  # a renamed mart must fail loading here, not show up as a dangling dependency
        raise ValueError(f"gold_report reads {missing}, which are not daily dbt models")
    return sorted({system for key in READS for system in specs[key].metadata[SOURCE_SYSTEMS]})


def write_report(path: Path) -> dict[str, str]:
    """Render the report from gold into `path` (atomically); returns its facts."""
    performance, routes, weather = read_gold(PERFORMANCE), read_gold(ROUTES), read_gold(WEATHER)
    first, last = performance["flight_date"].min(), performance["flight_date"].max()
    facts = {
        "days": f"{first:%Y-%m-%d}..{last:%Y-%m-%d} ({performance['flight_date'].nunique()} days)",
        "flights scheduled": f"{int(performance['flights_scheduled'].sum()):,}",
        "flights cancelled": f"{int(performance['flights_cancelled'].sum()):,}",
        "carriers": str(performance["carrier_code"].nunique()),
        "routes": str(len(routes.drop_duplicates(["origin_airport_code", "dest_airport_code"]))),
    }
    page = render_page(
        "ETTL gold report: NYC flights",
        f"Rendered {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from the gold marts "
        f"(warehouse {settings.warehouse_dir()}/gold.db)",
        facts,
        [
            Plot("On-time arrival rate per carrier over time",
                 plots.on_time_rate_by_carrier(performance), f"gold.{PERFORMANCE}"),
            Plot("Average departure delay vs visibility",
                 plots.delay_by_visibility(weather), f"gold.{WEATHER}"),
            Plot("Busiest routes", plots.busiest_routes(routes), f"gold.{ROUTES}"),
        ],
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(page, encoding="utf-8")
    temp.replace(path)  # a reader never sees half a report
    return facts


@dg.asset(
    key=KEY,
    group_name=GROUP,
    deps=READS,
    description=(
        "HTML report of the gold marts for people: on-time rate per carrier over time, average "
        "departure delay vs visibility, busiest routes; every day gold holds. File: "
        f"<ETTL_DATA_DIR>/reports/{REPORT_FILE}."
    ),
    owners=["team:analytics"],
    kinds={"python", "html"},
    metadata={SOURCE_SYSTEMS: _source_systems()},
    # Plots of gold's performance marts: aggregates of open data, for anyone in the company.
    tags={SENSITIVITY_TAG: "internal"},
    # Rendered by the daily schedule after gold (catalog.py).
    freshness_policy=freshness_policy(GROUP, daily=True),
    # Lets `dagster asset materialize --select '*' --partition-range ...` take it along (the
    # CLI requires a policy on every selected asset), as for the unpartitioned dbt models.
    backfill_policy=dg.BackfillPolicy.single_run(),
    # On Kubernetes: a small Python step reading Parquet, sized like a bronze step.
    op_tags=BRONZE_OP_TAGS,
)
def gold_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    path = report_path()
    facts = write_report(path)
    context.log.info(f"gold report written to {path}")
    return dg.MaterializeResult(
        metadata={
            PATH: dg.MetadataValue.path(str(path)),
            URL: dg.MetadataValue.url(path.as_uri()),
            **{name: dg.MetadataValue.text(value) for name, value in facts.items()},
        }
    )
