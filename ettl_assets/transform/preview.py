"""The first rows of a gold table as a markdown table, for its materialization in the UI.

Read from the table's Parquet files like the row counts (row_counts.py), not through Spark
(docs/design-decisions.md#d14): gold is small and its files are final once dbt has written them.
"""

import dagster as dg
import pandas as pd

from ettl_assets.transform.row_counts import ModelTable, window_scanner

PREVIEW_ROWS = 10


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    # A pipe or a line break would end the markdown cell early.
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *rows])


def table_preview(
    table: ModelTable, start: str | None = None, end: str | None = None, rows: int = PREVIEW_ROWS
) -> dg.MetadataValue:
    """The first `rows` rows of the table (of the run's window when it is partitioned)."""
    scanner = window_scanner(table, start, end)
    if scanner is None:
        return dg.MetadataValue.md("(no rows)")
    return dg.MetadataValue.md(markdown_table(scanner.head(rows).to_pandas()))
