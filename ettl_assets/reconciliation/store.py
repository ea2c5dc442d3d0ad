"""audit.reconciliation: the ledger, one Parquet file appended per run and tier.

Written with pyarrow where the ledger is computed (no Spark statement); Spark and dbt read the
same folder as the external table declared by macros/reconciliation.sql. Files are never
replaced: a day built twice has two sets of rows, the later run's `recorded_at` the newest.
"""

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ettl_assets.reconciliation.ledger import Entry
from ettl_assets.transform.row_counts import ModelTable

# Where Spark keeps a table `audit.reconciliation` (the warehouse's <schema>.db/<name> rule).
LEDGER_TABLE = ModelTable("audit.reconciliation", "audit", "reconciliation", None)
# Columns match macros/reconciliation.sql.
SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),  # exclusive
        ("source", pa.string()),
        ("day", pa.date32()),
        ("tier", pa.string()),
        ("asset", pa.string()),
        ("measure", pa.string()),
        ("hop", pa.string()),
        ("rule", pa.string()),
        ("amount", pa.decimal128(38, 2)),
    ]
)


def ledger_dir() -> Path:
    return LEDGER_TABLE.path


def as_table(entries: Sequence[Entry], run_id: str, start: date, end: date) -> pa.Table:
    now = datetime.now(UTC)
    columns = {
        "run_id": [run_id] * len(entries),
        "recorded_at": [now] * len(entries),
        "window_start": [start] * len(entries),
        "window_end": [end] * len(entries),
        **{
            name: [getattr(e, name) for e in entries]
            for name in ("source", "day", "tier", "asset", "measure", "hop", "rule")
        },
        "amount": [e.amount.quantize(Decimal("0.01")) for e in entries],
    }
    return pa.table(columns, schema=SCHEMA)


def append(entries: Sequence[Entry], run_id: str, start: date, end: date, tier: str) -> Path | None:
    """One new file of the run's `tier` rows; nothing when there are none."""
    if not entries:
        return None
    folder = ledger_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{tier}-{run_id}-{uuid.uuid4().hex[:8]}.parquet"
    temp = folder / f".{target.name}.tmp"  # hidden from Spark and pyarrow until renamed
    pq.write_table(as_table(entries, run_id, start, end), temp)
    os.replace(temp, target)
    return target


def read(
    start: date | None = None, end: date | None = None, source: str | None = None
) -> pd.DataFrame:
    """Ledger rows of the days in [start, end] (both included); empty when none was recorded."""
    folder = ledger_dir()
    if not folder.exists() or not any(folder.glob("*.parquet")):
        return pd.DataFrame(columns=SCHEMA.names)
    condition = None
    for part in (
        ds.field("day") >= start if start else None,
        ds.field("day") <= end if end else None,
        ds.field("source") == source if source else None,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    dataset = ds.dataset(folder, format="parquet", schema=SCHEMA)
    return dataset.to_table(filter=condition).to_pandas()


def latest(ledger: pd.DataFrame) -> pd.DataFrame:
    """Each (tier, asset, day)'s rows from the last run that recorded it."""
    if ledger.empty:
        return ledger
    last = ledger.groupby(["tier", "asset", "day"])["recorded_at"].transform("max")
    return ledger[ledger["recorded_at"] == last]
