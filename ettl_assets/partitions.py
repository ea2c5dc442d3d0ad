"""The one daily partitioning shared by bronze daily sources and the daily dbt models, and the
days of a window of it.

Open-ended: from the configured first day through the last complete day in the configured
timezone (ettl.yaml), so each day's partition appears without a code change and the daily
schedule requests yesterday.
"""

from datetime import date, timedelta

import dagster as dg

from ettl_assets import project_config

_config = project_config.load()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_config.first_day.isoformat(), timezone=_config.timezone.key
)


def window_days(start: date, end: date) -> list[date]:
    """The days of the [start, end) window a daily run builds."""
    return [start + timedelta(n) for n in range((end - start).days)]
