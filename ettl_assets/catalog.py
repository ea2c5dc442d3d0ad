"""What the catalog says about every asset, whichever tier builds it: tier, source system,
freshness. One place, so bronze (Python) and silver/gold (dbt) assets answer the same questions.

Owners come from the registry (bronze) and from `meta.dagster.owners` per folder in
dbt_project.yml (silver, gold); descriptions state each asset's grain.
"""

from collections.abc import Iterable
from datetime import timedelta
from functools import cache

import dagster as dg

TIER_TAG = "tier"
SOURCE_SYSTEMS = "source_systems"
# Each asset's most sensitive column, as a tag (visible and filterable in the UI). Levels from
# least to most sensitive (docs/security.md): silver hashes `pii` columns and drops
# `restricted` ones. Bronze declares every column's level in the registry; a dbt model takes the
# levels declared on it and its columns (`config.meta.sensitivity`), `internal` if none.
SENSITIVITY_TAG = "sensitivity"
SENSITIVITIES = ("public", "internal", "pii", "restricted")
DEFAULT_MODEL_SENSITIVITY = "internal"


def highest_sensitivity(levels: Iterable[str]) -> str:
    return max(levels, key=SENSITIVITIES.index)


# The daily schedule lands and ingests at 06:00 UTC; each tier of a day should be there by its
# deadline, gold after silver, and the gold report (group `reports`) after gold. A day late is
# stale.
DAILY_DEADLINE_CRON = {
    "bronze": "0 7 * * *",
    "silver": "0 8 * * *",
    "gold": "30 8 * * *",
    "reports": "0 9 * * *",
}
# Reference snapshots change rarely: expected at least weekly, warned after a week.
SNAPSHOT_FAIL_AFTER = timedelta(days=8)
SNAPSHOT_WARN_AFTER = timedelta(days=7)


@cache  # ~5 ms each (cron parsing), asked once per asset at every import of the definitions
def freshness_policy(tier: str, daily: bool) -> dg.FreshnessPolicy:
    if daily:
        return dg.FreshnessPolicy.cron(
            deadline_cron=DAILY_DEADLINE_CRON[tier], lower_bound_delta=timedelta(hours=24)
        )
    return dg.FreshnessPolicy.time_window(
        fail_window=SNAPSHOT_FAIL_AFTER, warn_window=SNAPSHOT_WARN_AFTER
    )
