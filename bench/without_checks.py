"""The code location of `ettl_assets.definitions` plus one job: every silver and gold asset
without its asset checks, for the bench's P3n (what P3 costs without the data tests).

`dagster asset materialize` always runs the checks of the assets it selects; Dagster's way to
leave them out is a job whose selection drops them (`AssetSelection.without_checks()`).
dagster-dbt then builds only the models: it selects them by name with dbt's indirect selection
turned off (DBT_INDIRECT_SELECTION=empty), so no test attached to them runs.

    dagster job execute -f bench/without_checks.py -j silver_gold_without_checks \\
        --tags '{"dagster/asset_partition_range_start": "2013-06-03",
                 "dagster/asset_partition_range_end": "2013-06-03"}'
"""

import dagster as dg

# The module, not its `defs`: Dagster refuses a file with two Definitions at module scope.
from ettl_assets import definitions as platform

JOB_NAME = "silver_gold_without_checks"  # bench.WITHOUT_CHECKS_JOB

silver_gold_without_checks = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.key_prefixes(["silver"], ["gold"]).without_checks(),
)

defs = dg.Definitions.merge(platform.defs, dg.Definitions(jobs=[silver_gold_without_checks]))
