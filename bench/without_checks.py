"""The code location of `ettl_assets.definitions` plus three jobs of every silver and gold asset:
- without its asset checks, for the bench's P3n (what P3 costs without the data tests);
- without the reconciliation ledger's checks only (every check named `*rows_reconciled`), and
- with all its checks, for the bench's ledger row: the ledger's cost is the difference of these
  two, both started the same way (`dagster job execute` loading this file, which costs more than
  `dagster asset materialize` loading the package: comparing across the two would credit the
  ledger with that difference).

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

# Imported by bench.py and reconciliation_cost.py.
WITHOUT_CHECKS_JOB = "silver_gold_without_checks"
WITHOUT_LEDGER_JOB = "silver_gold_without_ledger"
WITH_CHECKS_JOB = "silver_gold_with_checks"
LEDGER_CHECK_SUFFIX = "rows_reconciled"  # the silver dbt tests' and the gold check's names

silver_and_gold = dg.AssetSelection.key_prefixes(["silver"], ["gold"])
ledger_checks = [
    key
    for key in platform.defs.resolve_asset_graph().asset_check_keys
    if key.name.endswith(LEDGER_CHECK_SUFFIX)
]
jobs = [
    dg.define_asset_job(WITHOUT_CHECKS_JOB, selection=silver_and_gold.without_checks()),
    dg.define_asset_job(
        WITHOUT_LEDGER_JOB, selection=silver_and_gold - dg.AssetSelection.checks(*ledger_checks)
    ),
    dg.define_asset_job(WITH_CHECKS_JOB, selection=silver_and_gold),
]

defs = dg.Definitions.merge(platform.defs, dg.Definitions(jobs=jobs))
