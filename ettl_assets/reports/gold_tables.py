"""Gold marts read straight from their Parquet files, for reports.

No Spark: a report runs next to dbt steps that may hold the embedded metastore
(docs/design-decisions.md#d1), and gold's files are final once dbt has written them.
"""

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from ettl_assets import settings

GOLD = "gold"


def read_gold(name: str, warehouse_dir: Path | None = None) -> pd.DataFrame:
    """Every row of gold.<name>; a daily mart's `flight_date` (a Hive folder) as a date. From
    `warehouse_dir` (a Warehouse resource's), by default the configured one."""
    path = (warehouse_dir or settings.warehouse_dir()) / settings.table_location(GOLD, name)
    if not path.is_dir():
        raise FileNotFoundError(f"{GOLD}.{name} has no files at {path}: materialize gold first")
    frame = ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()
    if "flight_date" in frame.columns:
        frame["flight_date"] = pd.to_datetime(frame["flight_date"].astype(str))
    return frame
