"""`ettl reconcile`: the reconciliation ledger (audit.reconciliation) as a table per day.

Reads the ledger's Parquet files, no Spark; for each day and asset, the latest run's rows.
"""

from datetime import date

import pandas as pd

from ettl_assets.reconciliation import store
from ettl_assets.reconciliation.ledger import Entry
from ettl_assets.reconciliation.report import hops, report_lines

FIELDS = ("source", "day", "tier", "asset", "measure", "hop", "rule", "amount")


def print_reconciliation(start: date | None, end: date | None, source: str | None) -> int:
    """0: every row accounted for; 1: a hop has an unexplained difference; 3: nothing recorded
    for the selection."""
    ledger = store.latest(store.read(start, end, source))
    if ledger.empty:
        where = f" for source {source}" if source else ""
        days = f"from {start or 'the first day'} to {end or 'the last'}"
        print(f"no reconciliation recorded{where} {days} (in {store.ledger_dir()}): "
              "a build of the tiers records it")  # fmt: skip
        return 3
    entries = [
        Entry(**{**row, "rule": None if pd.isna(row["rule"]) else row["rule"]})
        for row in ledger[list(FIELDS)].to_dict("records")
    ]
    found = hops(entries)
    print("\n".join(report_lines(found)))
    return 1 if any(h.unexplained for h in found) else 0
